"""A content-addressed cache of rendered artifacts (``.kepu-cache/``).

A renderer names the inputs of a unit of work — the content it renders, the
template files, the parts of the config it reads, the media bytes, its own
version — and :func:`fingerprint` turns them into a key. When an entry exists
for the key, its artifacts are reused instead of rendered again.

Entries are written to a temporary folder and renamed into place, so a crash
never leaves a partial entry visible; every file's sha256 is checked on reuse,
and an entry with wrong bytes is discarded and rendered again, never published.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.diagnostics import Diagnostic, Severity
from builder.templates import template_dirs
from builder.writer import Artifact

CACHE_FORMAT = 1


def _plain(value: Any, nested: bool = False) -> Any:
    """A JSON-able form of content-model values.

    A lesson, quiz or campaign inside another one (a campaign's lessons, a
    lesson's quizzes) stands for a link: it is represented by what a link shows —
    slug, title, summary — so editing one lesson's body does not change the key
    of every campaign or quiz that mentions it.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if nested and hasattr(value, "slug"):
            return {"ref": value.slug, "title": value.title, "summary": getattr(value, "summary", "")}
        return {
            "type": type(value).__name__,
            **{f.name: _plain(getattr(value, f.name), True) for f in dataclasses.fields(value)},
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v, nested) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v, nested) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return {"file": file_digest(value)}
    if isinstance(value, bytes):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    return value


@functools.cache
def code_digest() -> str:
    """Digest of Kepu's own code: a new version of Kepu never reuses an older one's output."""
    package = Path(__file__).parent
    return hashlib.sha256(
        b"".join(p.relative_to(package).as_posix().encode() + p.read_bytes() for p in sorted(package.rglob("*.py")))
    ).hexdigest()


def fingerprint(*parts: Any) -> str:
    """The cache key of a unit of work: a sha256 over a canonical form of its inputs and Kepu's code."""
    canonical = [CACHE_FORMAT, code_digest(), *(_plain(part) for part in parts)]
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return "missing"
    return digest.hexdigest()


def templates_digest(project_root: Path, folder: str) -> str:
    """One digest of every template file under ``folder`` that a project sees (its own and the defaults)."""
    digest = hashlib.sha256()
    # Only folders that have ``folder`` count: a project that adds templates/posts/
    # leaves the digest of its site templates as it was.
    bases = [root / folder for root in template_dirs(project_root) if (root / folder).is_dir()]
    for index, base in enumerate(bases):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            digest.update(f"{index}:{path.relative_to(base).as_posix()}:{file_digest(path)}\n".encode())
    return digest.hexdigest()


@dataclass
class CachedUnit:
    artifacts: list[Artifact]
    warnings: list[Diagnostic]


@dataclass
class ArtifactCache:
    """Entries live in ``folder/<renderer>/<key[:2]>/<key>/``; ``folder=None`` disables caching."""

    folder: Path | None
    rendered: Counter[str] = field(default_factory=Counter)  # renderer → artifacts rendered
    reused: Counter[str] = field(default_factory=Counter)  # renderer → artifacts taken from the cache
    rendered_paths: list[str] = field(default_factory=list)
    used_keys: dict[str, set[str]] = field(default_factory=dict)

    def _entry(self, renderer: str, key: str) -> Path:
        assert self.folder is not None
        return self.folder / renderer / key[:2] / key

    def lookup(self, renderer: str, key: str, work_dir: Path) -> CachedUnit | None:
        """The unit's artifacts if cached and intact; big files are linked into ``work_dir``."""
        self.used_keys.setdefault(renderer, set()).add(key)
        if self.folder is None:
            return None
        entry = self._entry(renderer, key)
        try:
            record = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        artifacts = []
        for item in record["artifacts"]:
            blob = entry / item["blob"]
            if file_digest(blob) != item["sha256"]:
                shutil.rmtree(entry, ignore_errors=True)  # corrupt: render again, never publish it
                return None
            artifacts.append(
                Artifact(
                    item["kind"], item["path"], item["source"], tuple(item["audiences"]), file=_link_copy(blob, work_dir)
                )
            )
        warnings = _warnings(record)
        self.reused[renderer] += len(artifacts)
        return CachedUnit(artifacts, warnings)

    def warnings(self, renderer: str, key: str) -> list[Diagnostic] | None:
        """The warnings a unit gave when it was rendered, or None if it is not cached.

        For ``kepu check``: reading them needs no artifact, and does not count the
        entry as used by a build.
        """
        if self.folder is None:
            return None
        try:
            record = json.loads((self._entry(renderer, key) / "entry.json").read_text(encoding="utf-8"))
            return _warnings(record)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, renderer: str, key: str, unit: CachedUnit) -> None:
        self.rendered[renderer] += len(unit.artifacts)
        self.rendered_paths.extend(artifact.path for artifact in unit.artifacts)
        if self.folder is None:
            return
        entry = self._entry(renderer, key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
        record: dict[str, list[dict[str, Any]]] = {"artifacts": [], "warnings": []}
        for index, artifact in enumerate(unit.artifacts):
            blob = staging / f"{index:04d}"
            if artifact.data is not None:
                blob.write_bytes(artifact.data)
            else:
                assert artifact.file is not None
                _link_or_copy(artifact.file, blob)
            record["artifacts"].append(
                {
                    "kind": artifact.kind,
                    "path": artifact.path,
                    "source": artifact.source,
                    "audiences": list(artifact.audiences),
                    "blob": blob.name,
                    "sha256": file_digest(blob),
                }
            )
        record["warnings"] = [{"path": w.path, "line": w.line, "message": w.message} for w in unit.warnings]
        (staging / "entry.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        try:
            os.replace(staging, entry)
        except OSError:  # another build stored the same entry first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)

    def prune(self, renderer: str) -> None:
        """Drop entries this build did not use (deleted lessons, old template versions)."""
        if self.folder is None or not (self.folder / renderer).is_dir():
            return
        used = self.used_keys.get(renderer, set())
        for entry in (self.folder / renderer).glob("*/*"):
            if entry.name not in used:
                shutil.rmtree(entry, ignore_errors=True)


def _warnings(record: dict[str, Any]) -> list[Diagnostic]:
    return [Diagnostic(w["path"], w["line"], w["message"], Severity.WARNING) for w in record["warnings"]]


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _link_copy(blob: Path, work_dir: Path) -> Path:
    """A private name for a cached file that the writer may move into the output."""
    work_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=work_dir, prefix="cached-")
    os.close(handle)
    os.unlink(name)
    _link_or_copy(blob, Path(name))
    return Path(name)
