"""A content-addressed cache of rendered artifacts (``.kepu-cache/``).

A renderer names the inputs of a unit of work — the content it renders, the
template files, the parts of the config it reads, the media bytes, its own
version — and :func:`fingerprint` turns them into a key. When an entry exists
for the key, its artifacts are reused instead of rendered again.

Entries are written to a temporary folder and renamed into place, so a crash
never leaves a partial entry visible; every file's sha256 is checked on reuse,
and an entry with wrong bytes — or a malformed ``entry.json`` — is discarded and
rendered again, never published and never fatal. The output gets copies of the
cached files, never hard links, so nothing done to the cache reaches ``public/``;
an artifact the last output already holds (checked by the writer) is linked from
there instead, and its blob is not read at all.

Keys hold no absolute paths: file paths are represented by their bytes, and
inside :func:`relocatable_keys` the project's and Kepu's folders in strings
(file URIs in print HTML) are replaced by placeholders, so a checkout anywhere
gives the same keys.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.diagnostics import Diagnostic, Severity
from builder.remote_cache import RemoteCache
from builder.templates import default_templates_dir, template_dirs
from builder.writer import (
    Artifact,
    independent_copy,
    is_safe_artifact_path,
    reflink,
    sha256_file,
    write_atomically,
)

CACHE_FORMAT = 1
BLOB_NAME = re.compile(r"^\d{4}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

# (spelling, pattern, placeholder) for absolute folders in key strings; set by relocatable_keys().
_relocations: list[tuple[str, re.Pattern[str], str]] = []


@contextlib.contextmanager
def relocatable_keys(project_root: Path) -> Iterator[None]:
    """Within this block, keys do not depend on where the project and Kepu are on disk.

    Renderers put absolute paths in strings they key on (the print HTML links
    ``file:///…/media/x.png`` and Kepu's templates); the bytes of those files are
    keyed separately, so the folder itself is replaced by a placeholder. Only a
    whole path prefix is replaced (``/a/p`` in ``/a/p/x``, not in ``/a/px``).
    """
    roots = {"<kepu-templates>": default_templates_dir().resolve(), "<project>": project_root.resolve()}
    patterns = []
    for placeholder, root in sorted(roots.items(), key=lambda item: -len(str(item[1]))):
        for spelling in dict.fromkeys((root.as_uri(), f"file://{root}", str(root))):
            patterns.append((spelling, re.compile(re.escape(spelling) + r"(?=[/\\\"')\s]|$)"), placeholder))
    previous = _relocations[:]
    _relocations[:] = patterns
    try:
        yield
    finally:
        _relocations[:] = previous


def _relocated(text: str) -> str:
    for spelling, pattern, placeholder in _relocations:
        if spelling in text:  # most strings hold no path: a substring test, not a regex scan
            text = pattern.sub(placeholder, text)
    return text


def _plain(value: Any, nested: bool = False) -> Any:
    """A JSON-able form of content-model values.

    A lesson, quiz or campaign inside another one (a campaign's lessons, a
    lesson's quizzes) stands for a link: it is represented by what a link shows —
    slug, title, summary — so editing one lesson's body does not change the key
    of every campaign or quiz that mentions it.
    """
    kind = type(value)
    # The common cases first, by exact type (a key is made of thousands of strings).
    if kind is str:
        return _relocated(value) if _relocations else value
    if kind is int or kind is float or kind is bool or value is None:
        return value
    names = _dataclass_fields(kind)
    if names is not None:
        if nested and hasattr(value, "slug"):
            return {"ref": value.slug, "title": value.title, "summary": getattr(value, "summary", "")}
        return {"type": kind.__name__, **{name: _plain(getattr(value, name), True) for name in names}}
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
    if isinstance(value, str) and _relocations:
        return _relocated(value)
    return value


@functools.cache
def _dataclass_fields(kind: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, in order; None for any other type."""
    if dataclasses.is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return None


@functools.cache
def code_digest() -> str:
    """Digest of Kepu's own code: a new version of Kepu never reuses an older one's output."""
    package = Path(__file__).parent
    return hashlib.sha256(
        b"".join(
            p.relative_to(package).as_posix().encode() + p.read_bytes() for p in sorted(package.rglob("*.py"))
        )
    ).hexdigest()


def fingerprint(*parts: Any) -> str:
    """The cache key of a unit of work: a sha256 over a canonical form of its inputs and Kepu's code."""
    canonical = [CACHE_FORMAT, code_digest(), *(_plain(part) for part in parts)]
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    """The sha256 of a file, or a word for what stands there instead (for cache keys)."""
    try:
        return sha256_file(path)
    except FileNotFoundError:
        return "missing"
    except IsADirectoryError:
        return "folder"


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
    remote: RemoteCache | None = None  # the shared second tier (--cache-url), after the local folder
    rendered: Counter[str] = field(default_factory=Counter)  # renderer → artifacts rendered
    reused: Counter[str] = field(default_factory=Counter)  # renderer → artifacts taken from the cache
    rendered_paths: list[str] = field(default_factory=list)
    used_keys: dict[str, set[str]] = field(default_factory=dict)
    # sha256 → a checked file of the last output with those bytes (OutputWriter.published_file):
    # a reused artifact the output already holds is linked from there, its blob never read.
    published: Callable[[str], Path | None] | None = None

    def ledger(self, out_dir: Path) -> Path | None:
        """Where the writer of ``out_dir`` keeps its files' stats (OutputWriter); None without a cache.

        Local state, never a key nor shared: it is named after the output folder's place.
        """
        if self.folder is None:
            return None
        return self.folder / ".outputs" / f"{hashlib.sha256(str(out_dir).encode()).hexdigest()[:32]}.json"

    def _entry(self, renderer: str, key: str) -> Path:
        assert self.folder is not None
        return self.folder / renderer / key[:2] / key

    def lookup(self, renderer: str, key: str, work_dir: Path) -> CachedUnit | None:
        """The unit's artifacts if cached and intact: files the last output holds are taken from
        there (``published``), the others copied from their blobs into ``work_dir`` and checked.

        Anything wrong with the entry — unreadable or malformed ``entry.json``, a
        missing blob, bytes that do not match their sha256, a path that would leave
        the output folder — discards it: the unit is rendered again.
        """
        self.used_keys.setdefault(renderer, set()).add(key)
        if self.folder is None:
            return self._lookup_remote(renderer, key, work_dir)
        entry = self._entry(renderer, key)
        record = _read_record(entry)
        if record is None:
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            return self._lookup_remote(renderer, key, work_dir)
        artifacts = []
        for item in record["artifacts"]:
            published = self.published(item["sha256"]) if self.published is not None else None
            if published is not None and _is_plain_file(entry / item["blob"]):
                # The blob is still checked to be there: a broken entry is mended while it can be.
                artifacts.append(_artifact(item, published))
                continue
            # Verify the copy, not the blob: those are the bytes that will be published.
            copy = _private_copy(entry / item["blob"], work_dir)
            if copy is None or file_digest(copy) != item["sha256"]:
                for artifact in artifacts:
                    assert artifact.file is not None
                    artifact.file.unlink(missing_ok=True)
                if copy is not None:
                    copy.unlink(missing_ok=True)
                shutil.rmtree(entry, ignore_errors=True)  # corrupt: render again, never publish it
                return None
            artifacts.append(_artifact(item, copy))
        warnings = _warnings(record)
        self.reused[renderer] += len(artifacts)
        return CachedUnit(artifacts, warnings)

    def _lookup_remote(self, renderer: str, key: str, work_dir: Path) -> CachedUnit | None:
        """A unit another checkout or machine rendered, verified; kept in the local folder too."""
        found = self.remote.fetch(renderer, key, work_dir) if self.remote is not None else None
        if found is None:
            return None
        unit = CachedUnit(*found)
        self.reused[renderer] += len(unit.artifacts)
        self._store_local(renderer, key, unit)
        return unit

    def warnings(self, renderer: str, key: str) -> list[Diagnostic] | None:
        """The warnings a unit gave when it was rendered, or None if it is not cached.

        For ``kepu check``: reading them needs no artifact, and does not count the
        entry as used by a build.
        """
        if self.folder is None:
            return None
        record = _read_record(self._entry(renderer, key))
        return None if record is None else _warnings(record)

    def store(self, renderer: str, key: str, unit: CachedUnit, like: str | None = None) -> None:
        """Keep ``unit`` under ``key``; ``like`` is the key of an entry that shares most of its files.

        An artifact whose digest it knows (``Artifact.sha256``) and ``like``'s entry
        holds is linked to that blob, not copied: blobs are never changed in place, and
        every one is verified when it is read.
        """
        self.rendered[renderer] += len(unit.artifacts)
        self.rendered_paths.extend(artifact.path for artifact in unit.artifacts)
        self._store_local(renderer, key, unit, like)
        if self.remote is not None:
            self.remote.push(renderer, key, unit.artifacts, unit.warnings)

    def _store_local(self, renderer: str, key: str, unit: CachedUnit, like: str | None = None) -> None:
        if self.folder is None:
            return
        entry = self._entry(renderer, key)
        staging: Path | None = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
            record = _record(unit, staging, self._blobs(renderer, like) if like and like != key else {})
            (staging / "entry.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            os.replace(staging, entry)
        except OSError:
            # Another build stored the same entry first (keep theirs), or the cache cannot be
            # written (read-only, full): the cache only saves time, the build goes on without it.
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def _blobs(self, renderer: str, key: str) -> dict[str, Path]:
        """sha256 → blob file of the entry ``key``, as its record lists them (none if it is not one)."""
        entry = self._entry(renderer, key)
        record = _read_record(entry)
        if record is None:
            return {}
        return {item["sha256"]: entry / item["blob"] for item in record["artifacts"]}

    def prune(self, renderer: str) -> None:
        """Drop entries this build did not use (deleted lessons, old template versions)."""
        if self.folder is None or not (self.folder / renderer).is_dir():
            return
        used = self.used_keys.get(renderer, set())
        for entry in (self.folder / renderer).glob("*/*"):
            if entry.name not in used:
                shutil.rmtree(entry, ignore_errors=True)


def _record(
    unit: CachedUnit, staging: Path, blobs: dict[str, Path] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Write the unit's files as blobs into ``staging``; the entry.json record describing them.

    ``blobs`` (sha256 → a blob of another entry) are linked for artifacts known to have those bytes.
    """
    record: dict[str, list[dict[str, Any]]] = {"artifacts": [], "warnings": []}
    for index, artifact in enumerate(unit.artifacts):
        blob = staging / f"{index:04d}"
        linked = False
        if artifact.data is not None:
            blob.write_bytes(artifact.data)
        else:
            assert artifact.file is not None
            linked = artifact.sha256 is not None and _link_blob((blobs or {}).get(artifact.sha256), blob)
            if not linked:
                independent_copy(artifact.file, blob)
        record["artifacts"].append(
            {
                "kind": artifact.kind,
                "path": artifact.path,
                "source": artifact.source,
                "audiences": list(artifact.audiences),
                "blob": blob.name,
                # A linked blob is recorded with the digest its bytes must have: a blob someone
                # changed is then found out when it is read, and never published.
                "sha256": artifact.sha256 if linked and artifact.sha256 else file_digest(blob),
            }
        )
    record["warnings"] = [{"path": w.path, "line": w.line, "message": w.message} for w in unit.warnings]
    return record


def _read_record(entry: Path) -> dict[str, Any] | None:
    """The entry's ``entry.json`` if it is exactly what :meth:`ArtifactCache.store` writes, else None."""
    try:
        record = json.loads((entry / "entry.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    artifacts, warnings = record.get("artifacts"), record.get("warnings")
    if not isinstance(artifacts, list) or not isinstance(warnings, list):
        return None
    paths = set()
    for item in artifacts:
        if not (
            isinstance(item, dict)
            and all(isinstance(item.get(name), str) for name in ("kind", "path", "source", "blob", "sha256"))
            and isinstance(item.get("audiences"), list)
            and all(isinstance(audience, str) for audience in item["audiences"])
            and BLOB_NAME.match(item["blob"])
            and SHA256.match(item["sha256"])
            and is_safe_artifact_path(item["path"])
            and item["path"] not in paths
        ):
            return None
        paths.add(item["path"])
    for warning in warnings:
        if not (
            isinstance(warning, dict)
            and isinstance(warning.get("path"), str)
            and isinstance(warning.get("line"), int)
            and not isinstance(warning.get("line"), bool)
            and isinstance(warning.get("message"), str)
        ):
            return None
    return record


def _link_blob(source: Path | None, blob: Path) -> bool:
    if source is None or source.is_symlink():
        return False
    try:
        os.link(source, blob)
    except OSError:
        return False
    return True


def _is_plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _artifact(item: dict[str, Any], file: Path) -> Artifact:
    """An artifact of a record whose bytes ``file`` holds, checked to have the recorded sha256."""
    return Artifact(item["kind"], item["path"], item["source"], tuple(item["audiences"]), file=file, sha256=item["sha256"])


def _warnings(record: dict[str, Any]) -> list[Diagnostic]:
    return [Diagnostic(w["path"], w["line"], w["message"], Severity.WARNING) for w in record["warnings"]]


def _private_copy(blob: Path, work_dir: Path) -> Path | None:
    """A copy of a cached file under a private name that the writer may move into the output;
    None if the blob is missing or not a plain file (a symlink or a pipe is never read)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        source_fd = os.open(blob, flags)
    except OSError:
        return None
    with os.fdopen(source_fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(source_fd).st_mode):
            return None
        handle, name = tempfile.mkstemp(dir=work_dir, prefix="cached-")
        with os.fdopen(handle, "wb") as target:
            if not reflink(source_fd, target.fileno()):
                shutil.copyfileobj(source, target, 1 << 20)
    return Path(name)


# -- verified files kept beside the cache (encoded site images) ----------------------------------

_KEPT_DIGEST = 32  # bytes of sha256 that prefix a kept file


def write_kept(path: Path, data: bytes) -> None:
    """Keep ``data`` at ``path`` for :func:`read_kept`: prefixed with its sha256, renamed into place
    (a crash never leaves a partial file under the final name). Failing to write is not an error."""
    with contextlib.suppress(OSError):
        write_atomically(path, hashlib.sha256(data).digest() + data)


def read_kept(path: Path) -> bytes | None:
    """The data :func:`write_kept` kept at ``path``, or None if it is missing or its bytes changed
    (then the file is removed, so it is made again)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    digest, data = raw[:_KEPT_DIGEST], raw[_KEPT_DIGEST:]
    if len(digest) == _KEPT_DIGEST and hashlib.sha256(data).digest() == digest:
        return data
    path.unlink(missing_ok=True)
    return None
