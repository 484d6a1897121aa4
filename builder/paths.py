"""The one way Kepu reads a file that content or config names.

Content and ``site_config.yml`` arrive through merge requests from many people,
so every path they name — a lesson image, a cover, the logo, the music bed — is
resolved here and only here: inside the project, not through a symlink that
leaves it, an existing file of the expected kind (the bytes are sniffed, not the
extension trusted), within a size and pixel budget. Anything else is a
``path:line`` error. Source files themselves (lessons, quizzes, campaigns, the
config) are read by :func:`read_text`, which names the encoding it saw when a
file is not UTF-8, instead of failing with a traceback.
"""

from __future__ import annotations

import re
import warnings
from enum import Enum
from pathlib import Path

from PIL import Image

from builder.diagnostics import Diagnostics
from builder.model import MediaRef
from builder.sanitize import UnsafeSvgError, clean_svg

MAX_SOURCE_BYTES = 1 << 20  # a lesson is a few KB; a MB of Markdown is a mistake or an attack
MAX_IMAGE_BYTES = 20 << 20
MAX_AUDIO_BYTES = 50 << 20
MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel photo is already far more than any output needs
IMAGE_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
AUDIO_MAGIC = (
    (b"ID3", 0), (b"\xff\xfb", 0), (b"\xff\xf3", 0), (b"\xff\xf2", 0),  # MP3
    (b"OggS", 0), (b"fLaC", 0), (b"RIFF", 0), (b"ftyp", 4),  # Ogg, FLAC, WAV, M4A/AAC
)  # fmt: skip
OUTSIDE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:|^[/\\]{2}")


class FileKind(Enum):
    IMAGE = "图片"
    AUDIO = "音频"


def inside(root: Path, path: Path) -> bool:
    """True when ``path``, with every symlink followed, is within ``root``."""
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def project_file(
    root: Path,
    source: str,
    written: str,
    line: int,
    diagnostics: Diagnostics,
    kind: FileKind = FileKind.IMAGE,
    relative_to_file: bool = True,
) -> MediaRef | None:
    """Resolve a path written in ``source`` (project-relative) at ``line``.

    The path may be relative to the file (so Git web views preview images) or to
    the project root; a leading ``/`` means the project root, never the disk's.
    """
    label = kind.value
    written = written.strip()
    if OUTSIDE.match(written):
        if re.match(r"^(https?:)?//", written, re.IGNORECASE):
            message = f"{label} '{written[:80]}' 在别的网站上：请把{label}放进 media/ 再引用（网站不能向外部请求资源）"
        else:
            message = f"{label} '{written[:80]}' 不是项目里的文件：请把{label}放进 media/ 再用相对路径引用"
        diagnostics.error(source, line, message)
        return None
    if "\x00" in written or len(written) > 500:
        diagnostics.error(source, line, f"{label}路径 '{written[:80]}' 不是有效的文件路径")
        return None
    root = root.resolve()
    from_root = root / written.lstrip("/\\")
    beside_file = (root / source).parent / written
    candidates = [from_root] if written.startswith(("/", "\\")) or not relative_to_file else [beside_file, from_root]
    for candidate in candidates:
        if not inside(root, candidate):
            diagnostics.error(source, line, f"路径 '{written}' 超出了项目目录，只能引用项目里的文件")
            return None
        resolved = candidate.resolve()
        if resolved.is_file():
            rel = resolved.relative_to(root).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                # .git, .env, the build cache, staging folders: never content, never published.
                diagnostics.error(source, line, f"{label} '{written}' 在隐藏文件夹里（{rel}），只能引用 media/ 等普通文件夹里的文件")
                return None
            problem = sniff(resolved, kind)
            if problem:
                diagnostics.error(source, line, f"{label} '{written}' {problem}")
                return None
            return MediaRef(written, rel, line)
    diagnostics.error(source, line, f"找不到{label} '{written}'（可以写 media/… 或相对本文件的路径）")
    return None


def sniff(path: Path, kind: FileKind) -> str | None:
    """What is wrong with the file as a ``kind``, or None when its bytes are one."""
    try:
        size = path.stat().st_size
        if kind is FileKind.AUDIO:
            if size > MAX_AUDIO_BYTES:
                return f"有 {size >> 20} MB，最多 {MAX_AUDIO_BYTES >> 20} MB"
            with path.open("rb") as stream:
                head = stream.read(16)
            if not any(head[offset : offset + len(magic)] == magic for magic, offset in AUDIO_MAGIC):
                return "不是音频文件（支持 MP3、M4A、WAV、OGG、FLAC）"
            return None
        if size > MAX_IMAGE_BYTES:
            return f"有 {size >> 20} MB，最多 {MAX_IMAGE_BYTES >> 20} MB：请先压缩"
        if path.suffix.lower() == ".svg":
            try:
                clean_svg(path.read_bytes())
            except UnsafeSvgError as error:
                return str(error)
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if image.format not in IMAGE_FORMATS:
                    return f"是 {image.format} 格式，只支持 PNG、JPEG、WebP、GIF 和 SVG"
        if width * height > MAX_IMAGE_PIXELS:
            return f"有 {width}×{height} 像素，太大了（最多 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素）：请先缩小"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"像素太多（超过 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素），可能是恶意文件：请先缩小"
    except OSError:
        return "不是图片文件（或文件已损坏）：支持 PNG、JPEG、WebP、GIF 和 SVG"
    except (ValueError, SyntaxError):  # Pillow's plugins raise these for broken headers
        return "不是图片文件（或文件已损坏）：支持 PNG、JPEG、WebP、GIF 和 SVG"
    return None


def read_text(root: Path, path: Path, diagnostics: Diagnostics) -> str | None:
    """The text of a source file, or None with the reason recorded at its line.

    Refuses a file that leaves the project through a symlink, one too large, one
    that is not UTF-8 (naming the encoding it looks like) or that holds binary.
    """
    rel = _relative(root, path)
    if not inside(root, path):
        diagnostics.error(rel, 0, "这个文件是指向项目以外的链接：只能发布项目里的文件")
        return None
    try:
        if not path.is_file():
            diagnostics.error(rel, 0, "这不是一个普通文件（可能是文件夹）：请删掉或改名")
            return None
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            diagnostics.error(
                rel, 0, f"文件有 {size // 1024} KB，超过 {MAX_SOURCE_BYTES // 1024} KB 的上限：请拆成几个文件"
            )
            return None
        data = path.read_bytes()
    except OSError as error:
        diagnostics.error(rel, 0, f"无法读取这个文件：{error.strerror or error}")
        return None
    return decode(data, rel, diagnostics)


def decode(data: bytes, rel: str, diagnostics: Diagnostics) -> str | None:
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):  # fmt: skip
        if data.startswith(bom):
            diagnostics.error(rel, 1, f"文件是 {name} 编码：请用编辑器另存为 UTF-8 编码")
            return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        try:
            data.decode("gb18030")
            seen = "看起来是 GBK/GB18030 编码"
        except UnicodeDecodeError:
            seen = "不是 UTF-8 编码"
        diagnostics.error(rel, line, f"这一行有无法识别的字节，文件{seen}：请用编辑器另存为 UTF-8 编码")
        return None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        diagnostics.error(rel, line, "文件里有空字符（\\0），不像文本文件：请检查是否放错了文件")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _relative(root: Path, path: Path) -> str:
    try:
        return path.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return path.name
