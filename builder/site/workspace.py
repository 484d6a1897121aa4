"""The site's workspace, kept between builds, so that a one-lesson edit rebuilds one page (issue 22).

MkDocs has no incremental build, only ``--dirty``: it skips a page whose built
HTML is newer than its Markdown. That gives the same bytes as a full build of
Kepu's site when three things hold, and this module is where they are kept:

* **The frame of every page is unchanged** — theme, templates, config, media,
  the set of pages, the build date, tool and Kepu versions: the *structure key*.
  When it differs, the workspace is emptied and the site is built in full.
* **A page's Markdown is rewritten only when its text changes** (:func:`write_if_changed`),
  so its modification time says exactly which pages MkDocs must build again.
* **What a page gets from outside its Markdown is redone or merged by Kepu**: the
  dashboard analyses every lesson, so it is built every time; the search index,
  the offline reader's sizes and MkDocs' warnings are recorded per page and the
  pages MkDocs skipped keep what they had (:meth:`SiteWorkspace.merged_search_docs`).

The workspace lives in the cache folder and is trusted only as far as it checks
out: the sha256 of every built file is recorded with its identity (size, times,
inode: :func:`builder.writer.file_identity`), and before a dirty build every file is checked — a
file whose identity moved is hashed; anything missing, added or changed means a
full build. A failed build leaves no state behind, so the next one is a full
build too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from builder.search_terms import SearchUpdate
from builder.writer import file_identity, sha256_file, write_atomically

WORKSPACE = "site-workspace"  # its folder in the cache folder
STATE_FORMAT = 2
STATE = "state.json"
SEARCH_DOCS = "search-docs.json"
SEARCH_WORDS = "search-words.json"
PREVIOUS_PIECES = "search-previous"  # the last build's search pieces, while the new ones are made
PIECES_FOLDER = re.compile(r"^kepu/[0-9a-f]{12}/$")
READINGS = "prose-readings.json"
DASHBOARD_ROWS = "dashboard-rows.json"
SEARCH_SIZES = "search-sizes.json"
HEX = re.compile(r"^[0-9a-f]+$")
PAGE_MESSAGE = re.compile(r"Doc file '([^']+)'")  # how MkDocs starts a warning about one page
SITE_WIDE = ""  # the warnings key of MkDocs' messages about no one page


class BuiltPages(BasePlugin):
    """A MkDocs plugin that notes the pages MkDocs builds, in order (a dirty build skips the rest)."""

    def __init__(self) -> None:
        self.pages: list[str] = []  # addresses, as the search index locates them
        self.sources: set[str] = set()  # their Markdown files

    def on_page_context(self, context: dict, page: Page, config: MkDocsConfig, nav: Navigation) -> dict:
        self.pages.append(page.url)
        self.sources.add(page.file.src_uri)
        return context


@dataclass
class BuildRecord:
    """What a build leaves for the next one to merge with (see :class:`PreviousBuild`)."""

    pages: list[str]
    sizes: dict[str, list[int]]
    warnings: dict[str, list[str]]
    search: dict[str, list[dict[str, Any]]]
    search_words: dict[str, list[str]]
    readings: dict[str, Any] = field(default_factory=dict)
    dashboard_rows: dict[str, list[str]] = field(default_factory=dict)
    search_sizes: dict[str, list[int]] = field(default_factory=dict)  # a search piece's sha256 → its sizes


@dataclass
class PreviousBuild:
    """What the last successful build of this workspace recorded, page by page."""

    pages: list[str]  # page addresses in the order MkDocs built them
    sizes: dict[str, list[int]]  # built file → [stored size, gzip size]
    warnings: dict[str, list[str]]  # Markdown file → MkDocs' messages about it
    search: dict[str, list[dict[str, Any]]]  # page address → its entries in Material's search index
    search_words: dict[str, list[str]]  # page address → its words in the search pieces
    # Markdown file → [the key of what it was made from, its size, its mtime (ns)] (SiteWorkspace.kept)
    page_keys: dict[str, list] = field(default_factory=dict)


@dataclass
class SiteWorkspace:
    root: Path
    nonce: str  # marks Kepu's own markup in the generated pages (builder.site.guard)
    previous: PreviousBuild | None  # None: this build is a full one
    # The dashboard's readability scores by sentences (builder.prose.Readings); they depend
    # on the text only, so they outlive a change of structure.
    readings: dict[str, Any] = field(default_factory=dict)
    # The dashboard's rows by what they are made from (builder.site.pages.dashboard_row_keys):
    # a lesson that did not change is not analysed again. Like the scores, they outlive a change of structure.
    dashboard_rows: dict[str, list[str]] = field(default_factory=dict)
    search_sizes: dict[str, list[int]] = field(default_factory=dict)  # of the search pieces, by sha256
    previous_site_key: str | None = None  # the cache key of the site the workspace last built
    changed: set[str] = field(default_factory=set)  # Markdown files written this build
    # Built files as verified when the workspace opened: their identity (file_identity) → sha256.
    # A file MkDocs left alone is not hashed again when the build is recorded.
    verified: dict[tuple[int, ...], str] = field(default_factory=dict)
    page_keys: dict[str, list] = field(default_factory=dict)  # this build's, as PreviousBuild.page_keys

    @property
    def src_dir(self) -> Path:
        return self.root / "src"

    @property
    def docs_dir(self) -> Path:
        return self.root / "src" / "docs"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def dirty(self) -> bool:
        """True when MkDocs may skip the pages whose Markdown this build left alone."""
        return self.previous is not None

    @classmethod
    def open(cls, root: Path, structure: str) -> SiteWorkspace:
        """The workspace at ``root``, ready for an incremental build, or emptied for a full one."""
        if root.is_symlink() or (root.exists() and not root.is_dir()):
            root.unlink()  # the workspace is a folder of Kepu's own, never a way into another one
        # A link anywhere inside could make a page written here land outside it (in content/):
        # such a workspace is not Kepu's, and goes.
        linked = _has_links(root)
        state = None if linked else _load_json(root / STATE)
        readings = _kept(root, state, READINGS, "readings_sha256")
        rows = _kept(root, state, DASHBOARD_ROWS, "dashboard_rows_sha256")
        dashboard_rows = {
            key: row
            for key, row in rows.items()
            if HEX.match(key) and _is_list_of(row, str) and len(row) == 2
        }
        sizes = {
            key: value
            for key, value in _kept(root, state, SEARCH_SIZES, "search_sizes_sha256").items()
            if HEX.match(key) and _is_list_of(value, int) and len(value) == 2
        }
        found = _previous_build(root, state, structure)
        # Kept even when the structure changed: the last entry shares the site's unchanged files.
        site_key = state.get("site_key") if isinstance(state, dict) else None
        previous_site_key = site_key if isinstance(site_key, str) and HEX.match(site_key) else None
        # From here until save() there is no state: a build that fails half-way is never trusted.
        (root / STATE).unlink(missing_ok=True)
        if found is None:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True, exist_ok=True)
            return cls(root, secrets.token_hex(16), None, readings, dashboard_rows, sizes, previous_site_key)
        nonce, previous, verified = found
        return cls(
            root, nonce, previous, readings, dashboard_rows, sizes, previous_site_key, verified=verified
        )

    def write_if_changed(self, rel: str, text: str, key: str | None = None) -> None:
        """Write a generated Markdown page, leaving it untouched (same mtime) when its text is the same.

        ``key`` names what the page was made from: the next build may then skip making it (:meth:`kept`).
        """
        dest = self.docs_dir / rel
        data = text.encode("utf-8")
        try:
            unchanged = dest.read_bytes() == data
        except OSError:
            dest.parent.mkdir(parents=True, exist_ok=True)
            unchanged = False
        if not unchanged:
            dest.write_bytes(data)
            self.changed.add(rel)
        if key is not None:
            stat = dest.stat()
            self.page_keys[rel] = [key, stat.st_size, stat.st_mtime_ns]

    def kept(self, rel: str, key: str) -> bool:
        """True when the page's Markdown is the one the last build made from ``key``, untouched since.

        Then making it again would give the same text: it is left as it is.
        """
        if self.previous is None or self.previous.page_keys.get(rel, [None])[0] != key:
            return False
        try:
            stat = (self.docs_dir / rel).stat()
        except OSError:
            return False
        recorded = self.previous.page_keys[rel]
        if [stat.st_size, stat.st_mtime_ns] != recorded[1:]:
            return False
        self.page_keys[rel] = recorded
        return True

    def force_rebuild(self, built_file: str) -> None:
        """Make MkDocs build this page again although its Markdown is unchanged."""
        (self.out_dir / built_file).unlink(missing_ok=True)

    def merged_search_docs(self, built: list[str], fresh: list[dict[str, Any]]) -> tuple[list[str], dict]:
        """Every page's search entries: the built pages' from this run, the others' from the last.

        ``built`` is the pages MkDocs built, in order. After a full build that is
        every page; after a dirty one, the order is the last full build's (the set
        of pages is part of the structure key, so it is the same set).
        """
        groups: dict[str, list[dict[str, Any]]] = {page: [] for page in built}
        for entry in fresh:
            groups.setdefault(entry["location"].partition("#")[0], []).append(entry)
        if self.previous is None:
            return built, groups
        merged = {
            page: groups[page] if page in groups else self.previous.search.get(page, [])
            for page in self.previous.pages
        }
        return self.previous.pages, merged

    def previous_search_pieces(self) -> SearchUpdate | None:
        """Move the last build's search pieces aside, for the new ones to be patched from them."""
        manifest = _load_json(self.out_dir / "search" / "search_index.json")
        index = manifest.get("config", {}).get("kepu_index") if isinstance(manifest, dict) else None
        aside = self.root / PREVIOUS_PIECES
        shutil.rmtree(aside, ignore_errors=True)
        found = None
        if (
            self.previous is not None
            and isinstance(index, dict)
            and isinstance(index.get("folder"), str)
            and PIECES_FOLDER.match(index["folder"])
            and all(
                isinstance(index.get(name), int) and not isinstance(index[name], bool)
                for name in ("pages", "shards")
            )
            and (self.out_dir / "search" / index["folder"]).is_dir()
        ):
            folder = self.out_dir / "search" / index["folder"]
            # The pieces as verified when the workspace opened (a folder's rename leaves its files'
            # identities as they were): the patch need not read the ones it keeps to name the folder.
            digests = {
                rel: self.verified[identity]
                for rel, found in _built_files(folder).items()
                if (identity := file_identity(found)) in self.verified
            }
            os.replace(folder, aside)
            found = SearchUpdate(aside, index, self.previous.search_words, {}, digests)
        shutil.rmtree(self.out_dir / "search" / "kepu", ignore_errors=True)
        return found

    def drop_previous_search_pieces(self) -> None:
        shutil.rmtree(self.root / PREVIOUS_PIECES, ignore_errors=True)

    def merged_warnings(self, messages: list[str], built: set[str]) -> dict[str, list[str]]:
        """MkDocs' warnings by page, in page order: the built pages' from this run, the others' from the last.

        A page MkDocs skipped is not read, so it says nothing this time; what it said
        when it was built still holds, since neither it nor the pages' frame changed.
        """
        fresh: dict[str, list[str]] = {}
        for message in messages:
            match = PAGE_MESSAGE.match(message)
            fresh.setdefault(match.group(1) if match else SITE_WIDE, []).append(message)
        kept = {
            source: page_messages
            for source, page_messages in (self.previous.warnings if self.previous else {}).items()
            if source != SITE_WIDE and source not in built
        }
        merged = {**kept, **{source: found for source, found in fresh.items() if source != SITE_WIDE}}
        ordered = {source: merged[source] for source in sorted(merged)}
        if fresh.get(SITE_WIDE):
            ordered[SITE_WIDE] = fresh[SITE_WIDE]
        return ordered

    def save(self, structure: str, record: BuildRecord, site_key: str = "") -> dict[str, str]:
        """Record this build; only now is the workspace good for an incremental build.

        Returns the sha256 of every built file, by its path in the site.
        """
        write_atomically(self.root / SEARCH_DOCS, _dumps(record.search))
        write_atomically(self.root / SEARCH_WORDS, _dumps(record.search_words))
        write_atomically(self.root / READINGS, _dumps(record.readings))
        write_atomically(self.root / DASHBOARD_ROWS, _dumps(record.dashboard_rows))
        write_atomically(self.root / SEARCH_SIZES, _dumps(record.search_sizes))
        identities = {
            rel: file_identity(found) for rel, found in sorted(_built_files(self.out_dir).items())
        }
        outputs = {rel: self._digest(self.out_dir / rel, identity) for rel, identity in identities.items()}
        state = {
            "format": STATE_FORMAT,
            "structure": structure,
            "nonce": self.nonce,
            "pages": record.pages,
            "sizes": record.sizes,
            "warnings": record.warnings,
            "outputs": {rel: [outputs[rel], *identity] for rel, identity in identities.items()},
            "page_keys": self.page_keys,
            "site_key": site_key,  # the cache entry of this build (builder.renderers.site)
            "search_sha256": sha256_file(self.root / SEARCH_DOCS),
            "search_words_sha256": sha256_file(self.root / SEARCH_WORDS),
            "readings_sha256": sha256_file(self.root / READINGS),
            "dashboard_rows_sha256": sha256_file(self.root / DASHBOARD_ROWS),
            "search_sizes_sha256": sha256_file(self.root / SEARCH_SIZES),
        }
        write_atomically(self.root / STATE, _dumps(state))
        return outputs

    def _digest(self, path: Path, identity: tuple[int, ...]) -> str:
        found = self.verified.get(identity)
        return found if found is not None else sha256_file(path)


def _built_files(out_dir: Path) -> dict[str, os.stat_result]:
    """Every entry of the built site that is not a folder (files, links), by path: its ``lstat``.

    One ``scandir`` walk, not ``rglob`` with a stat per question: 2,600 files at 1,000 lessons.
    """
    found: dict[str, os.stat_result] = {}
    pending = [("", os.fspath(out_dir))]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((f"{prefix}{entry.name}/", entry.path))
                else:
                    found[f"{prefix}{entry.name}"] = entry.stat(follow_symlinks=False)
    return found


@contextlib.contextmanager
def claimed(root: Path, fallback: Path) -> Iterator[Path]:
    """``root`` while no other build uses it; ``fallback`` (a private, full build) when one does.

    Two builds sharing a cache folder must not build into one workspace at once.
    """
    lock_path = root.with_name(root.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:  # a read-only cache folder: the build goes on without the workspace
        yield fallback
        return
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield fallback
            return
        yield root
    finally:
        os.close(lock)  # closing the descriptor lets go of the lock


def _has_links(root: Path) -> bool:
    for folder, folders, files in os.walk(root):
        if any(os.path.islink(os.path.join(folder, name)) for name in (*folders, *files)):
            return True
    return False


def _dumps(value: object) -> bytes:
    """The workspace's own JSON (MBs of search entries and words at 1,000 lessons): orjson, for speed."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _load_json(path: Path) -> Any:
    try:
        return None if path.is_symlink() else orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def _kept(root: Path, state: Any, name: str, digest_key: str) -> dict[str, Any]:
    """A mapping the last build recorded (scores, dashboard rows), if the file is the one it wrote."""
    if not isinstance(state, dict) or not isinstance(state.get(digest_key), str):
        return {}
    path = root / name
    try:
        if path.is_symlink() or sha256_file(path) != state[digest_key]:
            return {}
    except OSError:
        return {}
    kept = _load_json(path)
    return kept if isinstance(kept, dict) else {}


def _previous_build(
    root: Path, state: Any, structure: str
) -> tuple[str, PreviousBuild, dict[tuple[int, int, int], str]] | None:
    """The last build's record if it is for this structure and every built file is as it left it."""
    if not (
        isinstance(state, dict)
        and state.get("format") == STATE_FORMAT
        and state.get("structure") == structure
        and isinstance(state.get("nonce"), str)
        and len(state["nonce"]) == 32
        and HEX.match(state["nonce"])
        and _is_list_of(state.get("pages"), str)
        and isinstance(state.get("sizes"), dict)
        and all(_is_list_of(value, int) and len(value) == 2 for value in state["sizes"].values())
        and isinstance(state.get("warnings"), dict)
        and all(_is_list_of(value, str) for value in state["warnings"].values())
        and _is_table_of_digests(state.get("outputs"), numbers=4)
        and isinstance(state.get("search_sha256"), str)
        and isinstance(state.get("search_words_sha256"), str)
        and _is_table_of_digests(state.get("page_keys"), numbers=2)
    ):
        return None
    out_dir = root / "out"
    recorded: dict[str, list] = state["outputs"]
    try:
        present = _built_files(out_dir)
        if present.keys() != recorded.keys():
            return None
        verified = {}
        for rel, (digest, *identity) in recorded.items():
            found = present[rel]
            if not stat.S_ISREG(found.st_mode):
                return None
            now = file_identity(found)
            if list(now) != identity and sha256_file(out_dir / rel) != digest:
                return None
            verified[now] = digest
        loaded = []
        for name, key in ((SEARCH_DOCS, "search_sha256"), (SEARCH_WORDS, "search_words_sha256")):
            path = root / name
            if os.path.islink(path) or sha256_file(path) != state[key]:
                return None
            loaded.append(orjson.loads(path.read_bytes()))
    except (OSError, ValueError):
        return None
    search, search_words = loaded
    if not isinstance(search, dict) or not all(
        isinstance(entries, list) and all(isinstance(entry, dict) for entry in entries)
        for entries in search.values()
    ):
        return None
    if not isinstance(search_words, dict) or not all(
        _is_list_of(words, str) for words in search_words.values()
    ):
        return None
    return (
        state["nonce"],
        PreviousBuild(
            state["pages"], state["sizes"], state["warnings"], search, search_words, state["page_keys"]
        ),
        verified,
    )


def _is_table_of_digests(value: object, numbers: int) -> bool:
    """A mapping of names to ``[digest, n1, …]`` with ``numbers`` integers (a file's identity, a page's)."""
    return isinstance(value, dict) and all(
        isinstance(row, list)
        and len(row) == numbers + 1
        and isinstance(row[0], str)
        and _is_list_of(row[1:], int)
        for row in value.values()
    )


def _is_list_of(value: object, kind: type) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, kind) and not isinstance(item, bool) for item in value
    )
