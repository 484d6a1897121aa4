"""The offline reader's lists: sw.js (the precache list and its version) and offline-files.json.

The service worker (templates/site/assets/sw.js, registered by kepu.js) must sit
at the site root so that its scope is the whole site. Both files depend only on
the built site, so the same input gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import stat
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.pages import Page

SERVICE_WORKER = "sw.js"
OFFLINE_FILES = "offline-files.json"
OFFLINE_PAGE = "offline/"
# The service worker saves the whole search index (manifest and pieces) right after
# the first visit, so search works offline at once, only up to this compressed size;
# on a larger site the pieces are saved as searches fetch them, or with "save all",
# where their size is shown first.
SEARCH_WARM_LIMIT = 512 * 1024
MANIFEST_LINE = re.compile(r"^const MANIFEST = .*;$", re.MULTILINE)
LOCAL_REF = re.compile(r"<(?:link|script|img)\b[^>]{0,2000}?\s(?:href|src)=\"([^\":#?]{1,2000})\"")
PICTURE = re.compile(r"<picture\b.*?</picture>", re.DOTALL)
SOURCE_SRCSET = re.compile(r"<source\b[^>]*?\ssrcset=\"([^\"\s,]+)")
IMG_SRC = re.compile(r"<img\b[^>]{0,2000}?\ssrc=\"([^\":#?]{1,2000})\"")


class CompressedSizes(BasePlugin):
    """Each page's size and gzip size, measured in a thread as MkDocs writes it.

    zlib lets go of the GIL, so the compression runs on a free core while MkDocs
    goes on; ``write_offline_files`` then only adds up.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.sizes: dict[Path, Future[tuple[int, int]]] = {}

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        # MkDocs writes the page encoded just so.
        data = output.encode("utf-8", errors="xmlcharrefreplace")
        self.sizes[Path(page.file.abs_dest_path)] = self.pool.submit(sizes_of, data)
        return output

    def measured(self) -> dict[Path, tuple[int, int]]:
        return {path: future.result() for path, future in self.sizes.items()}


def sizes_of(data: bytes) -> tuple[int, int]:
    """Stored and downloaded (gzip) size."""
    return len(data), len(gzip.compress(data, 6, mtime=0))


def write_offline_files(
    out_dir: Path,
    measured: Mapping[Path, tuple[int, int]] | None = None,
    known: Mapping[str, list[int]] | None = None,
) -> dict[str, list[int]]:
    """Write sw.js (the precache list and its version) and offline-files.json ("save all").

    The shell is what every page loads (CSS, JS, logo, as the home page links
    them), the search worker and its language files: the version is a hash of
    their bytes, so a site with changed shell files gets a changed sw.js, which
    browsers install on the next visit. ``measured`` has sizes taken while
    MkDocs wrote the pages; a page changed since then is measured again.
    ``known`` has the sizes of search pieces by their sha256 (most pieces outlive a
    one-lesson edit); returns those of this build's pieces, for the next one.
    """
    template = out_dir / "assets" / SERVICE_WORKER
    if not template.is_file():
        template = out_dir / SERVICE_WORKER  # run again on a built site: its own sw.js
    if not template.is_file():  # a project template set without the offline reader
        return {}
    home = (out_dir / "index.html").read_text(encoding="utf-8")
    shell = {local_path("", ref) for ref in LOCAL_REF.findall(home)}
    config = re.search(r'<script id="__config" type="application/json">(.*?)</script>', home, re.DOTALL)
    if config and json.loads(config.group(1)).get("search"):
        worker = local_path("", json.loads(config.group(1))["search"])
        shell.add(worker)
        if worker and "/workers/search." in worker:  # Material's lunr worker; Kepu's needs no language files
            shell.update(lunr_files(out_dir))
    shell = {
        path for path in shell if path and (out_dir / path).is_file() and path != f"assets/{SERVICE_WORKER}"
    }
    version = hashlib.sha256()
    for path in sorted(shell):
        version.update(path.encode() + b"\0" + (out_dir / path).read_bytes() + b"\0")
    # The search manifest and the pieces it names (builder/site/search_index.py).
    search_files = search_pieces(out_dir)
    search_sizes, by_digest = {}, {}
    for path in search_files:
        data = (out_dir / path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        found = (known or {}).get(digest)
        sizes = (found[0], found[1]) if found and found[0] == len(data) else sizes_of(data)
        search_sizes[path], by_digest[digest] = sizes, list(sizes)
    search_gzip = sum(gzipped for _, gzipped in search_sizes.values())
    manifest = {
        "version": version.hexdigest()[:16],
        "shell": sorted(shell),
        "pages": ["./"],
        "data": search_files if 0 < search_gzip <= SEARCH_WARM_LIMIT else search_files[:1],
        "offline": OFFLINE_PAGE,
    }
    worker = MANIFEST_LINE.sub(
        lambda _: f"const MANIFEST = {json.dumps(manifest, ensure_ascii=False)};",
        template.read_text(encoding="utf-8"),
        count=1,
    )
    (out_dir / SERVICE_WORKER).write_text(worker, encoding="utf-8")
    if template != out_dir / SERVICE_WORKER:
        template.unlink()

    # "Save all": every page and image, with its size (stored) and its gzip size (downloaded).
    pages, media, download = [], {}, 0
    for file in sorted(out_dir.rglob("index.html")):
        rel = file.relative_to(out_dir).as_posix()
        url = rel.removesuffix("index.html") or "./"
        if url == OFFLINE_PAGE:
            continue
        data = file.read_bytes()
        size, gzipped = (measured or {}).get(file, (-1, 0))
        if size != len(data):
            size, gzipped = sizes_of(data)
        pages.append([url, size])
        download += gzipped
        for ref in page_images(data.decode("utf-8")):
            path = local_path(rel, ref)
            if path and path not in shell and path not in media:  # a picture many pages show: once
                size = _file_size(out_dir / path)
                if size >= 0:
                    media[path] = size
    extra = [[path, size] for path, (size, _) in search_sizes.items()]
    download += search_gzip
    stored = sum(size for _, size in pages) + sum(media.values()) + sum(size for _, size in extra)
    listing = {
        "lessons": sum(1 for url, _ in pages if url.startswith("lessons/")),
        "bytes": stored,
        "download_bytes": download + sum(media.values()),
        "pages": pages,
        "media": sorted([path, size] for path, size in media.items()),
        "data": extra,
    }
    (out_dir / OFFLINE_FILES).write_text(
        json.dumps(listing, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    return by_digest


def _file_size(path: Path) -> int:
    """A plain file's size; -1 for anything else (missing, a folder)."""
    try:
        found = path.stat()
    except OSError:
        return -1
    return found.st_size if stat.S_ISREG(found.st_mode) else -1


def page_images(text: str) -> list[str]:
    """The image files a page shows: in a <picture>, its first source (the WebP), else each <img>."""
    refs = []
    for picture in PICTURE.findall(text):
        refs.extend(SOURCE_SRCSET.findall(picture)[:1] or IMG_SRC.findall(picture))
    refs.extend(IMG_SRC.findall(PICTURE.sub("", text)))
    return [ref for ref in refs if ":" not in ref and not ref.startswith("//")]


def local_path(page: str, ref: str) -> str | None:
    """The site path a relative reference in the page at ``page`` points to; None outside the site."""
    if ref.startswith("/") or "//" in ref:
        return None
    parts = page.split("/")[:-1]  # the page's folder (``page`` is a clean relative path)
    for part in ref.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def search_pieces(out_dir: Path) -> list[str]:
    """``search/search_index.json`` first, then every piece of the index it names, in order."""
    index = out_dir / "search" / "search_index.json"
    if not index.is_file():
        return []
    files = ["search/search_index.json"]
    pieces = json.loads(index.read_text(encoding="utf-8")).get("config", {}).get("kepu_index")
    if pieces:
        folder = out_dir / "search" / pieces["folder"]
        files += sorted(path.relative_to(out_dir).as_posix() for path in folder.rglob("*.json"))
    return files


def lunr_files(out_dir: Path) -> set[str]:
    """The lunr language files the search worker loads for the configured languages."""
    index = out_dir / "search" / "search_index.json"
    if not index.is_file():
        return set()
    langs = json.loads(index.read_text(encoding="utf-8")).get("config", {}).get("lang", [])
    folder = "assets/javascripts/lunr"
    files = {f"{folder}/min/lunr.stemmer.support.min.js"}
    files.update(f"{folder}/min/lunr.{lang}.min.js" for lang in langs if lang != "en")
    if len(langs) > 1:
        files.add(f"{folder}/min/lunr.multi.min.js")
    if "ja" in langs:
        files.add(f"{folder}/tinyseg.js")
    if "th" in langs:
        files.add(f"{folder}/wordcut.js")
    return {path for path in files if (out_dir / path).is_file()}
