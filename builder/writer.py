"""The one writer that owns the output folder.

Artifacts are written into a staging folder beside the output; only when the
whole build succeeded is the staging folder swapped in, so a failed build
leaves the previous ``public/`` exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    """One output file: ``data`` in memory, or ``file`` already rendered on disk."""

    kind: str
    path: str  # relative to the output folder, forward slashes
    source: str  # relative to the project
    audiences: tuple[str, ...] = ()
    data: bytes | None = None
    file: Path | None = None


class DuplicateArtifactError(Exception):
    pass


class OutputWriter:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir.resolve()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        # Same filesystem as the output, so the final swap is a rename.
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}-build-", dir=self.out_dir.parent))
        self.entries: dict[str, dict[str, object]] = {}

    def scratch_dir(self, name: str) -> Path:
        """A private working folder for a renderer, removed with the staging folder."""
        folder = self.staging / ".work" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add(self, artifact: Artifact) -> None:
        if artifact.path in self.entries or artifact.path == MANIFEST:
            raise DuplicateArtifactError(f"two artifacts want the same path: {artifact.path}")
        dest = self.staging / artifact.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if artifact.data is not None:
            dest.write_bytes(artifact.data)
            digest = hashlib.sha256(artifact.data).hexdigest()
        elif artifact.file is not None:
            os.replace(artifact.file, dest)
            digest = sha256_file(dest)
        else:
            raise ValueError(f"artifact {artifact.path} has neither data nor file")
        self.entries[artifact.path] = {
            "kind": artifact.kind,
            "path": artifact.path,
            "source": artifact.source,
            "audiences": list(artifact.audiences),
            "sha256": digest,
        }

    def commit(self) -> Path:
        shutil.rmtree(self.staging / ".work", ignore_errors=True)
        manifest = {"artifacts": [self.entries[path] for path in sorted(self.entries)]}
        (self.staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        previous = None
        if self.out_dir.exists():
            previous = self.out_dir.with_name(f".{self.out_dir.name}-previous-{os.getpid()}")
            os.replace(self.out_dir, previous)
        os.replace(self.staging, self.out_dir)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        return self.out_dir / MANIFEST

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
