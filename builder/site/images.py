"""Images at the size a phone shows them: where each copy goes, its size, its bytes.

720 px wide is a 360 px phone screen at 2× density. Encoding is slow, so encoded
images are kept beside the build cache (:class:`KeptImages`, by source bytes,
size and format) and an unchanged image is not encoded again. The encoding itself
is :func:`builder.images.encode_image`, the craft the posts share.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image

from builder.cache import fingerprint, read_kept, write_kept
from builder.images import encode_image
from builder.model import Project
from builder.sanitize import UnsafeSvgError, clean_svg

PHONE_WIDTH = 720
LOGO_SIZE = 192  # the header shows the logo at 24–48 px; 192 px also serves as the favicon
IMAGE_VERSION = 1  # bump when the encoding below changes
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PhoneImage:
    path: str  # project-relative path of the copy in the source's format (PNG, JPEG or WebP)
    width: int
    height: int
    webp: str | None = None  # a WebP copy next to a PNG, which is what browsers load


def phone_images(project: Project) -> dict[str, PhoneImage]:
    """Each raster lesson image → its phone-sized copies."""
    result = {}
    for rel in sorted({ref.path for lesson in project.lessons for ref in lesson.images}):
        plan = phone_image(project.root, rel)
        if plan:
            result[rel] = plan
    return result


def phone_image(root: Path, rel: str, max_width: int = PHONE_WIDTH, webp: bool = True) -> PhoneImage | None:
    """Where the phone copies of ``rel`` go and how big they are; None for files served as they are."""
    suffix = PurePosixPath(rel).suffix.lower()
    if suffix not in FORMATS:
        return None  # SVG, GIF …: copied unchanged
    try:
        with Image.open(root / rel) as image:
            if getattr(image, "is_animated", False):
                return None
            width, height = image.size
            if image.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8):  # rotated a quarter turn
                width, height = height, width
    except (OSError, Image.DecompressionBombError):
        return None
    if width > max_width:
        width, height = max_width, max(1, round(height * max_width / width))
    alternative = None
    if webp and FORMATS[suffix] == "PNG":
        alternative = PurePosixPath(rel).with_suffix(".webp").as_posix()
        if (root / alternative).exists():  # an editor's own file of that name: do not overwrite it
            alternative = rel + ".webp"
    return PhoneImage(rel, width, height, alternative)


@dataclass
class KeptImages:
    """:func:`encode_image` through a folder of kept encodings (none: every image is encoded).

    Kept images carry their sha256 (``cache.write_kept``): a damaged one is
    encoded again, never published. They are not artifacts of their own, so the
    cache's counts of rendered and reused artifacts stay those of the output.
    """

    folder: Path | None
    used: set[str] = field(default_factory=set)

    def encoded(self, src: Path, size: tuple[int, int], fmt: str) -> bytes:
        name = f"{fingerprint('site-image', IMAGE_VERSION, src, size, fmt)}.{fmt.lower()}"
        kept = self.folder / name if self.folder else None
        self.used.add(name)
        data = read_kept(kept) if kept else None
        if data is None:
            data = encode_image(src, size, fmt)
            if kept:
                write_kept(kept, data)
        return data

    def prune(self) -> None:
        """Remove the kept images this build did not use (a changed or removed source's)."""
        if self.folder and self.folder.is_dir():
            for old in self.folder.iterdir():
                if old.name not in self.used and not old.name.startswith("."):
                    old.unlink(missing_ok=True)


def logo_plan(project: Project) -> PhoneImage | None:
    """The logo as the site serves it: same name and format, at most LOGO_SIZE px tall and wide."""
    logo = project.config.logo
    plan = phone_image(project.root, logo, max_width=LOGO_SIZE, webp=False) if logo else None
    if logo is None or plan is None:
        return None
    width, height = plan.width, plan.height
    if height > LOGO_SIZE:
        width, height = max(1, round(width * LOGO_SIZE / height)), LOGO_SIZE
    return PhoneImage(logo, width, height)


def logo_size(project: Project) -> list[int] | None:
    plan = logo_plan(project)
    return [plan.width, plan.height] if plan else None


def copy_media(project: Project, docs_dir: Path, kept_dir: Path | None = None) -> None:
    """Copy the media the site shows: lesson images at phone size, the logo small, the rest as is.

    Encoded images are kept in ``kept_dir`` (the site's is ``<cache>/site-images/``)
    and the ones no longer used are removed from it.
    """
    plans = phone_images(project)
    logo, small_logo = project.config.logo, logo_plan(project)
    if logo and small_logo:
        plans[logo] = small_logo
    paths = {ref.path for lesson in project.lessons for ref in lesson.images}
    paths.update(lesson.cover for lesson in project.lessons if lesson.cover)
    if logo:
        paths.add(logo)
    kept = KeptImages(kept_dir)
    for rel in sorted(paths):
        plan = plans.get(rel)
        if plan is None:
            (docs_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            if PurePosixPath(rel).suffix.lower() == ".svg":
                # An SVG opened on its own is a page: its scripts would run on the site's origin.
                with contextlib.suppress(UnsafeSvgError):  # not a picture: the loader has reported it
                    (docs_dir / rel).write_bytes(clean_svg((project.root / rel).read_bytes()))
                continue
            shutil.copy2(project.root / rel, docs_dir / rel)
            continue
        size = (plan.width, plan.height)
        copies = [(plan.path, FORMATS[PurePosixPath(rel).suffix.lower()])]
        if plan.webp:
            copies.append((plan.webp, "WEBP"))
        for path, fmt in copies:
            dest = docs_dir / path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(kept.encoded(project.root / rel, size, fmt))
    kept.prune()
