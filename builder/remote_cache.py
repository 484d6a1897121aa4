"""A cache shared between checkouts and machines, in the shape of Bazel's remote cache.

``--cache-url URL`` names any fsspec location — ``file:///shared/kepu`` on a shared
disk, ``s3://bucket/kepu`` on object storage, ``memory://kepu`` in tests. It holds:

- ``ac/<renderer>/<key[:2]>/<key>.json`` — the action cache: a unit's key (the
  fingerprint of its inputs, templates, tool versions and Kepu's code, with no
  absolute path in it) → the artifacts it made (kind, path, source, audiences,
  sha256) and the warnings it gave;
- ``cas/<sha[:2]>/<sha>`` — the blobs, stored by the sha256 of their bytes.

Nothing read from it is trusted without its hash: a record that is not exactly
what :meth:`RemoteCache.push` writes, a missing blob, or bytes that do not match
their name make the unit a miss, and it is rendered again. Writes go to a
temporary name and are then moved into place (an object store's put is atomic by
itself), so a reader never sees half an entry. The local ``.kepu-cache`` stays
the first tier: a remote hit is copied into it, a fresh unit is written to both.
A remote that cannot be reached or written only costs time: the build goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from builder.diagnostics import Diagnostic, Severity
from builder.writer import Artifact, is_safe_artifact_path

SHA256 = re.compile(r"^[0-9a-f]{64}$")
KEY = re.compile(r"^[0-9a-f]{16,128}$")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
BLOB_MAX = 2 << 30  # 2 GiB: a unit's video is tens of MB; more is not a Kepu blob
RECORD_MAX = 4 << 20


class RemoteCacheError(ValueError):
    """``--cache-url`` names nothing fsspec can open (unknown protocol, missing driver)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RemoteCache:
    def __init__(self, url: str):
        if url.startswith("file://"):
            # A file URI percent-encodes spaces and non-ASCII folder names (Path.as_uri()); fsspec
            # would take "%20" literally and write beside the folder the user meant.
            url = "file://" + unquote(url[len("file://") :])
        try:
            import fsspec

            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError, TypeError) as error:
            raise RemoteCacheError(f"--cache-url {url} 打不开：{error}") from error
        self.url = url
        self.root = root.rstrip("/")
        self.failures = 0  # reads or writes that failed; reported, never fatal

    # -- names ---------------------------------------------------------------------------------
    def _record_path(self, renderer: str, key: str) -> str:
        return f"{self.root}/ac/{renderer}/{key[:2]}/{key}.json"

    def _blob_path(self, sha: str) -> str:
        return f"{self.root}/cas/{sha[:2]}/{sha}"

    # -- reading -------------------------------------------------------------------------------
    def fetch(self, renderer: str, key: str, work_dir: Path) -> tuple[list[Artifact], list[Diagnostic]] | None:
        """The unit's artifacts, verified and copied into ``work_dir``; None on any miss."""
        if not (NAME.match(renderer) and KEY.match(key)):
            return None
        record = self._read_record(renderer, key)
        if record is None:
            return None
        artifacts: list[Artifact] = []
        for item in record["artifacts"]:
            data = self._read(self._blob_path(item["sha256"]), BLOB_MAX)
            if data is None or _sha256(data) != item["sha256"]:
                for artifact in artifacts:
                    assert artifact.file is not None
                    artifact.file.unlink(missing_ok=True)
                return None
            artifacts.append(
                Artifact(
                    item["kind"], item["path"], item["source"], tuple(item["audiences"]), file=_private_file(work_dir, data)
                )
            )
        warnings = [Diagnostic(w["path"], w["line"], w["message"], Severity.WARNING) for w in record["warnings"]]
        return artifacts, warnings

    def _read(self, path: str, limit: int) -> bytes | None:
        try:
            with self.fs.open(path, "rb") as stream:
                data = stream.read(limit + 1)
        except FileNotFoundError:
            return None
        except Exception:  # a network or permission problem: a miss, counted
            self.failures += 1
            return None
        return data if len(data) <= limit else None

    def _read_record(self, renderer: str, key: str) -> dict[str, Any] | None:
        data = self._read(self._record_path(renderer, key), RECORD_MAX)
        if data is None:
            return None
        try:
            record = json.loads(data.decode("utf-8"))
        except ValueError:
            return None
        return record if valid_record(record) else None

    # -- writing -------------------------------------------------------------------------------
    def push(self, renderer: str, key: str, artifacts: list[Artifact], warnings: list[Diagnostic]) -> None:
        """Upload the unit's blobs (those not there yet), then its record: a record never
        names a blob that is not stored."""
        if not (NAME.match(renderer) and KEY.match(key)):
            return
        items = []
        try:
            for artifact in artifacts:
                data = artifact.read_bytes()
                sha = _sha256(data)
                if not self.fs.exists(self._blob_path(sha)):
                    self._write(self._blob_path(sha), data)
                items.append(
                    {
                        "kind": artifact.kind,
                        "path": artifact.path,
                        "source": artifact.source,
                        "audiences": list(artifact.audiences),
                        "sha256": sha,
                    }
                )
            record = {
                "artifacts": items,
                "warnings": [{"path": w.path, "line": w.line, "message": w.message} for w in warnings],
            }
            self._write(self._record_path(renderer, key), json.dumps(record, ensure_ascii=False).encode("utf-8"))
        except Exception:  # the remote only saves time: a failed upload never fails the build
            self.failures += 1

    def _write(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        if not {"file", "local"} & set(_protocols(self.fs)):
            self.fs.pipe_file(path, data)  # an object store's put is atomic by itself
            return
        temporary = f"{parent}/.tmp-{os.getpid()}-{path.rsplit('/', 1)[1]}"
        self.fs.pipe_file(temporary, data)
        self.fs.mv(temporary, path)

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "failures": self.failures}


def _protocols(fs: Any) -> Iterator[str]:
    protocol = fs.protocol
    yield from (protocol,) if isinstance(protocol, str) else protocol


def valid_record(record: Any) -> bool:
    """Exactly what :meth:`RemoteCache.push` writes: anything else is a miss, never an artifact."""
    if not isinstance(record, dict) or set(record) != {"artifacts", "warnings"}:
        return False
    artifacts, warnings = record["artifacts"], record["warnings"]
    if not isinstance(artifacts, list) or not isinstance(warnings, list):
        return False
    paths: set[str] = set()
    for item in artifacts:
        if not (
            isinstance(item, dict)
            and all(isinstance(item.get(name), str) for name in ("kind", "path", "source", "sha256"))
            and isinstance(item.get("audiences"), list)
            and all(isinstance(audience, str) for audience in item["audiences"])
            and SHA256.match(item["sha256"])
            and is_safe_artifact_path(item["path"])
            and item["path"] not in paths
        ):
            return False
        paths.add(item["path"])
    return all(
        isinstance(w, dict)
        and isinstance(w.get("path"), str)
        and isinstance(w.get("line"), int)
        and not isinstance(w.get("line"), bool)
        and isinstance(w.get("message"), str)
        for w in warnings
    )


def _private_file(work_dir: Path, data: bytes) -> Path:
    """A new file in ``work_dir`` for the writer to move into the output (created, never followed)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        path = work_dir / f"remote-{_sha256(data)[:16]}-{attempt}"
        try:
            with path.open("xb") as stream:
                stream.write(data)
        except FileExistsError:
            continue
        return path
    raise OSError(f"no free name in {work_dir}")
