"""Same input, same bytes — wherever the checkout lives (a laptop, CI, a second runner).

The fixture project (trimmed, with the fast video style) is built with every renderer
from two folders of different names and depths; every artifact must be identical,
and no output may contain either folder's absolute path or a ``file://`` URL. A lesson
with a cover and a campaign with an SVG in its body make the outputs name image files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_video import trimmed_project

from builder.pipeline import build
from tests.conftest import TODAY


def built_from(folder: Path) -> tuple[Path, dict[str, str]]:
    project = trimmed_project(folder)
    (project / "media" / "mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        encoding="utf-8",
    )
    lesson = project / "content" / "lessons" / "hypertension-basics.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("reviewed_by:", "cover: media/bp.png\nreviewed_by:"),
        encoding="utf-8",
    )
    campaign = project / "content" / "campaigns" / "dust-month.md"
    campaign.write_text(campaign.read_text(encoding="utf-8") + "\n![标志](../../media/mark.svg)\n", encoding="utf-8")
    out = folder.parent / "out"
    build(project, out, jobs=2, today=TODAY, use_cache=False)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return out, {item["path"]: item["sha256"] for item in manifest["artifacts"]}


@pytest.mark.slow
def test_every_kind_is_byte_identical_from_two_different_folders(tmp_path: Path):
    first_out, first = built_from(tmp_path / "a" / "project")
    second_out, second = built_from(tmp_path / "a-much-longer-folder-name" / "nested" / "kepu-checkout")
    kinds = {path.split("/")[0] for path in first}
    assert {"site", "posts", "print", "video"} <= kinds
    assert first.keys() == second.keys()
    differing = sorted(path for path in first if first[path] != second[path])
    assert differing == []
    assert (first_out / "manifest.json").read_bytes() == (second_out / "manifest.json").read_bytes()
    for out in (first_out, second_out):
        for path in out.rglob("*"):
            if path.is_file():  # PDFs, pictures and videos too: a path could hide in their metadata
                data = path.read_bytes()
                assert str(tmp_path).encode() not in data, path
                # Posts and print name their pictures by relative URL (the site's theme scripts
                # mention file:// in their own code).
                top = path.relative_to(out).parts[0]
                assert top not in ("posts", "print") or b"file://" not in data, path
