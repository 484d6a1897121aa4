"""The one writer that owns the output folder.

Artifacts are written into a staging folder beside the output; only when the
whole build succeeded is the staging folder swapped in, so a failed build
leaves the previous ``public/`` exactly as it was.

The swap is two renames (``public`` → ``.public-previous-<pid>``, then the
staging folder → ``public``). A build killed between them leaves no ``public/``;
every later writer first restores the moved-aside output, so the last good
output is never lost. Staging folders carry their build's pid, so the folders
of dead builds are removed and those of live ones are left alone. Recovery and
the swap hold a lock on the parent folder, so two builds never interleave them.

:func:`check_output_folder` refuses, before anything is written, an output folder
whose replacement would delete sources or someone's files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

try:
    import fcntl
except ImportError:  # not on Windows: the commit is then not serialised between builds
    fcntl = None  # type: ignore[assignment]

MANIFEST = "manifest.json"
# What a project is made from: an output or cache folder must neither contain nor lie inside these.
SOURCE_NAMES = ("content", "media", "templates", "site_config.yml", ".git")
# Staging folders without a pid come from older Kepu versions; they are removed once surely abandoned.
LEGACY_STAGING_AGE = 24 * 3600


@dataclass(frozen=True)
class Artifact:
    """One output file: ``data`` in memory, or ``file`` already rendered on disk."""

    kind: str
    path: str  # relative to the output folder, forward slashes
    source: str  # relative to the project
    audiences: tuple[str, ...] = ()
    data: bytes | None = None
    file: Path | None = None
    # Given for a ``file`` that stays the renderer's (the site's workspace keeps it): its digest.
    # Such a file is copied, not moved, or linked from the last output when that has these bytes.
    sha256: str | None = None

    def read_bytes(self) -> bytes:
        """The artifact's bytes, from memory or from its file."""
        return self.data if self.data is not None else Path(str(self.file)).read_bytes()


class DuplicateArtifactError(Exception):
    pass


class UnsafeArtifactPathError(ValueError):
    """An artifact path that could land outside the output folder (``..``, absolute, backslashes)."""


class UnsafeOutputError(Exception):
    """``--out`` or ``--cache-dir`` would overwrite or delete what it must not; the CLI exits 2."""


def is_safe_artifact_path(path: object) -> bool:
    """A plain relative POSIX path that stays inside the output folder, whatever the platform."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return False
    parts = path.split("/")
    if re.match(r"^[A-Za-z]:", parts[0]) or parts[0] == ".work":  # a drive; the renderers' scratch space
        return False
    return all(part not in ("", ".", "..") for part in parts)


class OutputWriter:
    def __init__(self, out_dir: Path, ledger: Path | None = None):
        """``ledger``: where to keep each published file's identity right after this build wrote
        it (see :meth:`published_file`); None hashes every file of the last output it reuses."""
        self.out_dir = out_dir.resolve()
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        recover_output(self.out_dir)
        # Same filesystem as the output, so the final swap is a rename; the pid says whose it is.
        self.staging = Path(
            tempfile.mkdtemp(prefix=f".{self.out_dir.name}-build-{os.getpid()}-", dir=self.out_dir.parent)
        )
        self._scratch_root = self.staging / ".work"
        self.entries: dict[str, dict[str, object]] = {}
        self.ledger = ledger
        published = _published_digests(self.out_dir)
        # What the last output holds: sha256 → a path with those bytes (files that only moved, too).
        self.previous = {digest: path for path, digest in sorted(published.items())}
        self._stamps = _read_ledger(ledger, self.out_dir, published) if ledger is not None else {}
        self._found: dict[str, Path | None] = {}  # sha256 → the checked file of the last output
        self._checked_dirs: set[Path] = set()  # staging folders made and checked to be inside it
        self._output_dirs: dict[Path, bool] = {}  # folders of the last output → inside it

    def scratch_dir(self, name: str) -> Path:
        """A private working folder for a renderer, removed with the staging folder."""
        folder = self.staging / ".work" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add(self, artifact: Artifact) -> None:
        if not is_safe_artifact_path(artifact.path):
            raise UnsafeArtifactPathError(f"artifact path would leave the output folder: {artifact.path!r}")
        if artifact.path in self.entries or artifact.path == MANIFEST:
            raise DuplicateArtifactError(f"two artifacts want the same path: {artifact.path}")
        dest = self.staging / artifact.path
        self._make_folder(dest.parent, artifact.path)
        if artifact.data is not None:
            _write_new_file(dest, artifact.data)
            digest = hashlib.sha256(artifact.data).hexdigest()
        elif artifact.file is not None and artifact.sha256 is not None:
            if not self._link_published(artifact.sha256, dest):
                if artifact.file.parent.is_relative_to(self._scratch_root):
                    _move_file(artifact.file, dest)  # the build's own scratch copy: nobody else reads it
                else:
                    independent_copy(artifact.file, dest)
            digest = artifact.sha256
        elif artifact.file is not None:
            _move_file(artifact.file, dest)
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

    def _make_folder(self, folder: Path, path: str) -> None:
        """Make ``folder`` in staging one level at a time; a level already there must be a real folder.

        A folder of an earlier artifact could be a symlink a renderer left: never write through
        it. Only this writer makes anything in staging, and only whole files: a folder it made or
        checked stays a folder, so each is made or checked once a build (one system call, not a
        ``resolve()`` of the whole path: 2,600 site files sit in 1,100 folders).
        """
        if folder in self._checked_dirs or folder == self.staging:
            return
        self._make_folder(folder.parent, path)
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                raise UnsafeArtifactPathError(
                    f"artifact path would leave the output folder: {path!r}"
                ) from None
        self._checked_dirs.add(folder)

    def published_file(self, digest: str) -> Path | None:
        """A file of the last output that holds the bytes of ``digest``, checked; None if there is none.

        A file is checked by its sha256, or — when this writer's ledger says its identity
        (:func:`file_identity`: size, times, inode) is what it was right after the last
        build published it — by that alone: any write, rename over, chmod or new link
        changes the change time, which no one can set back. So a build that reuses
        thousands of files reads none of them. Only a plain file inside the last output
        counts: a link planted there leads somewhere else.
        """
        if digest in self._found:
            return self._found[digest]
        found = None
        path = self.previous.get(digest)
        if path is not None:
            published = self.out_dir / path
            # The very file the last build published (its inode, size and times) needs no folder check.
            if self._unchanged(path, published) or (
                self._inside_output(published.parent) and _holds(published, digest)
            ):
                found = published
        self._found[digest] = found
        return found

    def _unchanged(self, path: str, published: Path) -> bool:
        stamp = self._stamps.get(path)
        if stamp is None:
            return False
        try:
            status = published.lstat()
        except OSError:
            return False
        return stat.S_ISREG(status.st_mode) and file_identity(status) == stamp

    def _link_published(self, digest: str, dest: Path) -> bool:
        """Link ``dest`` to a file of the last output that holds the bytes of ``digest``, if there is one.

        Nothing writes into a published file or a staged one (both are only ever
        created whole), so the new output may share it with the old one, which goes
        when this one is in place; a file someone changed since fails the check and is copied.
        """
        published = self.published_file(digest)
        if published is None:
            return False
        try:
            os.link(published, dest, follow_symlinks=False)
        except OSError:
            return False
        return True

    def _inside_output(self, folder: Path) -> bool:
        """True when a folder of the last output really is inside it (checked once a folder)."""
        inside = self._output_dirs.get(folder)
        if inside is None:
            try:
                inside = folder.resolve().is_relative_to(self.out_dir)
            except OSError:
                inside = False
            self._output_dirs[folder] = inside
        return inside

    def commit(self) -> Path:
        shutil.rmtree(self.staging / ".work", ignore_errors=True)
        manifest = {"artifacts": [self.entries[path] for path in sorted(self.entries)]}
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        _write_new_file(self.staging / MANIFEST, text.encode("utf-8"))
        previous = None
        with _folder_lock(self.out_dir.parent):
            _restore_or_drop_previous(self.out_dir)  # a build that died mid-swap since we started
            if self.out_dir.exists() or self.out_dir.is_symlink():
                previous = self.out_dir.with_name(f".{self.out_dir.name}-previous-{os.getpid()}")
                os.replace(self.out_dir, previous)
            try:
                os.replace(self.staging, self.out_dir)
            except BaseException:
                if previous is not None:
                    os.replace(previous, self.out_dir)
                raise
        if previous is not None:
            # If this is interrupted, the next writer finishes it: ``public/`` is already the new output.
            shutil.rmtree(previous, ignore_errors=True)
        if self.ledger is not None:
            # After the old output is gone: removing it changed the link count, so the change time, of
            # every file the two shared.
            _write_ledger(self.ledger, self.out_dir, text.encode("utf-8"), self.entries)
        return self.out_dir / MANIFEST

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def recover_output(out_dir: Path) -> None:
    """Undo what builds killed mid-commit left beside ``out_dir``: restore or drop the moved-aside
    output, remove the staging folders of builds that are no longer running."""
    out_dir = out_dir.resolve()
    if not out_dir.parent.is_dir():
        return
    with _folder_lock(out_dir.parent):
        _restore_or_drop_previous(out_dir)
    for staging in _siblings(out_dir, "build"):
        if _abandoned(staging):
            shutil.rmtree(staging, ignore_errors=True)


def _restore_or_drop_previous(out_dir: Path) -> None:
    """With the lock held: any ``.<name>-previous-*`` is from a build that died during its swap."""
    previous = sorted(_siblings(out_dir, "previous"), key=_manifest_time, reverse=True)
    if previous and not (out_dir.exists() or out_dir.is_symlink()):
        # Killed between the two renames: the moved-aside folder is the last good output, whole
        # (it is only removed after the new output is in place).
        os.replace(previous.pop(0), out_dir)
    for folder in previous:
        shutil.rmtree(folder, ignore_errors=True)


def _siblings(out_dir: Path, role: str) -> Iterator[Path]:
    prefix = f".{out_dir.name}-{role}-"
    try:
        names = os.listdir(out_dir.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and (out_dir.parent / name).is_dir():
            yield out_dir.parent / name


def _manifest_time(folder: Path) -> float:
    try:
        return (folder / MANIFEST).stat().st_mtime
    except OSError:
        return 0.0


def _abandoned(staging: Path) -> bool:
    """A staging folder whose build is not running (pid gone), or an old one from before pids."""
    match = re.match(r"^\..+-build-(\d+)-[^-]+$", staging.name)
    if match is None:
        try:
            return time.time() - staging.stat().st_mtime > LEGACY_STAGING_AGE
        except OSError:
            return False
    return not _pid_alive(int(match.group(1)))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return True  # cannot tell: keep the folder rather than risk a live build's
    return True


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` itself (no lock file to leave behind), where supported."""
    handle = None
    if fcntl is not None:
        try:
            handle = os.open(folder, os.O_RDONLY)
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError:  # a filesystem without locks: recovery and commit still work, unserialised
            if handle is not None:
                os.close(handle)
            handle = None
    try:
        yield
    finally:
        if handle is not None:
            os.close(handle)


def independent_copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to a new file ``dest`` that shares no storage a write could reach through.

    A reflink (copy-on-write clone, on btrfs/XFS) is as fast as a hard link and as
    independent as a copy; elsewhere the bytes are copied. Never a hard link: an
    in-place change to a cache blob would change the published output.
    """
    with open(src, "rb") as source, open(dest, "xb") as target:
        if not reflink(source.fileno(), target.fileno()):
            shutil.copyfileobj(source, target, 1 << 20)


FICLONE = 0x40049409  # Linux ioctl: clone the whole file (copy-on-write)


def reflink(source: int, target: int) -> bool:
    try:
        import fcntl

        fcntl.ioctl(target, FICLONE, source)
    except (ImportError, OSError):
        return False
    return True


# -- the ledger: each published file's identity, right after it was published -----------------------

LEDGER_FORMAT = 1


def file_identity(found: os.stat_result) -> tuple[int, ...]:
    """What changes whenever a file is written: size, modification and change times (ns), inode.

    The change time is the kernel's own: setting the modification time back (``touch -d``)
    moves it on, and so do a new link and a rename over it. So a file whose identity is the
    recorded one holds the recorded bytes — the check Git's index and Bazel's digest cache
    make — and is not hashed again (the writer's ledger, the site's workspace).
    """
    return found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino


def _holds(path: Path, digest: str) -> bool:
    """True if ``path`` is a plain file (not followed if a link) whose bytes have ``digest``."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    with os.fdopen(descriptor, "rb") as stream:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode) and _sha256_stream(stream) == digest


def _write_ledger(ledger: Path, out_dir: Path, manifest: bytes, entries: dict[str, dict[str, object]]) -> None:
    """Keep each file's identity as it is now, with the manifest it belongs to; failing to is no error."""
    files = {}
    for path, entry in entries.items():
        try:
            files[path] = [entry["sha256"], *file_identity((out_dir / path).lstat())]
        except OSError:
            continue
    record = {"format": LEDGER_FORMAT, "manifest": hashlib.sha256(manifest).hexdigest(), "files": files}
    with contextlib.suppress(OSError):
        write_atomically(ledger, orjson.dumps(record))


def _read_ledger(ledger: Path, out_dir: Path, published: dict[str, str]) -> dict[str, tuple[int, ...]]:
    """Path → identity of the files the ledger vouches for: none unless it was written for exactly the
    manifest the output folder holds now, and only for files it lists with the manifest's digest."""
    try:
        record = orjson.loads(ledger.read_bytes())
        manifest = hashlib.sha256((out_dir / MANIFEST).read_bytes()).hexdigest()
    except (OSError, ValueError):
        return {}
    if not (isinstance(record, dict) and record.get("format") == LEDGER_FORMAT and record.get("manifest") == manifest):
        return {}
    files = record.get("files")
    if not isinstance(files, dict):
        return {}
    stamps = {}
    for path, value in files.items():
        if (
            isinstance(value, list)
            and len(value) == 5
            and value[0] == published.get(path)
            and all(type(number) is int for number in value[1:])
        ):
            stamps[path] = tuple(value[1:])
    return stamps


def _published_digests(out_dir: Path) -> dict[str, str]:
    """Path → sha256 of the artifacts the output folder's manifest lists (none if it is not one)."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {
            item["path"]: item["sha256"]
            for item in manifest["artifacts"]
            if isinstance(item.get("path"), str) and isinstance(item.get("sha256"), str)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_new_file(dest: Path, data: bytes) -> None:
    """Create ``dest`` (it must not exist, so nothing is written through a planted symlink)."""
    with dest.open("xb") as stream:
        stream.write(data)


def _move_file(src: Path, dest: Path) -> None:
    try:
        os.replace(src, dest)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        shutil.copyfile(src, dest)
        src.unlink()


def write_atomically(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to a private temporary name beside ``path`` and rename it into place, so a
    crash or a second process never sees a half-written file under the final name.

    ``private`` creates the file owner-only from its first byte (tokens, publish records).
    The caller decides whether an ``OSError`` matters; the temporary file never stays behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def keep_json(path: Path, value: object) -> None:
    """Keep a derived table (jieba's dictionary, OpenCC's variants) as JSON under its sha256.

    For tables that take longer to make than to read; :func:`kept_json` checks the digest,
    so a cut-short or altered file is made again. A folder that cannot be written is no error.
    """
    body = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    with contextlib.suppress(OSError):
        write_atomically(path, hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


def kept_json(path: Path) -> object | None:
    """What :func:`keep_json` kept at ``path``, or None if it is missing or not whole."""
    try:
        if path.is_symlink():
            return None
        head, _, body = path.read_bytes().partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != head:
            return None
        return orjson.loads(body)
    except (OSError, ValueError):
        return None


def kept_or_made(path: Path, make: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """The table kept at ``path`` if it is whole and ``valid``; else ``make()``, kept there for next time."""
    table = kept_json(path)
    if table is None or not valid(table):
        table = make()
        keep_json(path, table)
    return table


def sha256_file(path: Path) -> str:
    """The one file digest: the writer's manifest and the cache's keys and checks use it."""
    with path.open("rb") as stream:
        return _sha256_stream(stream)


def _sha256_stream(stream: BinaryIO) -> str:
    return hashlib.file_digest(stream, "sha256").hexdigest()


# -- where an output or cache folder may be -------------------------------------------------------


def _protected(project_dir: Path) -> list[tuple[Path, str]]:
    """What no output or cache may overlap, each with what it is called in a message."""
    from builder.templates import default_templates_dir

    project_dir = project_dir.resolve()
    kepu = Path(__file__).resolve().parent
    return [
        *((project_dir / name, "源文件") for name in SOURCE_NAMES),
        (default_templates_dir().resolve(), "Kepu 的默认模板"),
        (kepu, "Kepu 的程序文件"),
    ]


def _clash(folder: Path, others: Iterable[tuple[Path, str]]) -> str | None:
    """How ``folder`` overlaps the first of ``others`` it overlaps, as a clause; None if none."""
    for other, label in others:
        if folder == other:
            return f"就是{label} {other}"
        if folder.is_relative_to(other):
            return f"在{label} {other} 里面"
        if other.is_relative_to(folder):
            return f"包含了{label} {other}"
    return None


def is_kepu_output(folder: Path) -> bool:
    """A folder a Kepu build wrote: it has Kepu's manifest (a JSON object with an artifact list)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("artifacts"), list)


def check_output_folder(
    out_dir: Path,
    project_dir: Path,
    cache_dir: Path | None = None,
    own_files: frozenset[str] = frozenset(),
    what: str = "输出目录",
) -> None:
    """Refuse an output folder whose replacement would delete sources or files Kepu did not write.

    ``own_files``: names a command writes into the folder in place instead of replacing it
    (``kepu exam``); a folder holding only those is a previous output too.
    """
    out_dir, project_dir = out_dir.resolve(), project_dir.resolve()
    if out_dir == project_dir or project_dir.is_relative_to(out_dir):
        raise UnsafeOutputError(
            f"{what} {out_dir} 是项目文件夹或它的上级，写入会删掉内容源文件；请换一个单独的文件夹。"
        )
    protected = _protected(project_dir)
    if cache_dir is not None:
        protected.append((cache_dir.resolve(), "构建缓存"))
    clash = _clash(out_dir, protected)
    if clash is not None:
        raise UnsafeOutputError(
            f"{what} {out_dir} {clash}，写入会改动或删掉那里的文件；请换一个单独的文件夹。"
        )
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise UnsafeOutputError(f"{what} {out_dir} 已经是一个文件，不是文件夹；请换一个路径。")
    if out_dir.is_dir() and not is_kepu_output(out_dir):
        names = set(os.listdir(out_dir))
        if names and not names <= own_files:
            effect = "会覆盖其中的同名文件" if own_files else "会把整个文件夹替换掉"
            raise UnsafeOutputError(
                f"{what} {out_dir} 里已有不是 Kepu 生成的文件（没有 Kepu 的 {MANIFEST}），"
                f"写入{effect}；请换一个空文件夹或不存在的路径。"
            )


def check_cache_folder(cache_dir: Path, project_dir: Path, out_dir: Path) -> None:
    """Refuse a cache folder that overlaps the sources or the output (pruning it deletes files)."""
    cache_dir, project_dir, out_dir = cache_dir.resolve(), project_dir.resolve(), out_dir.resolve()
    if cache_dir == project_dir or project_dir.is_relative_to(cache_dir):
        raise UnsafeOutputError(
            f"缓存目录 {cache_dir} 是项目文件夹或它的上级，清理缓存会删掉源文件；请换一个单独的文件夹。"
        )
    clash = _clash(cache_dir, _protected(project_dir))
    if clash is not None:
        raise UnsafeOutputError(
            f"缓存目录 {cache_dir} {clash}，清理缓存会删掉那里的文件；请换一个单独的文件夹。"
        )
    if _clash(cache_dir, [(out_dir, "")]) is not None:
        raise UnsafeOutputError(
            f"输出目录 {out_dir} 与缓存目录 {cache_dir} 重叠，构建和清理缓存会删掉对方的文件；请把两者分开。"
        )
