"""Same input, same bytes — wherever the checkout lives (a laptop, CI, a second runner).

The fixture project (trimmed, with the fast video style) is built with every renderer
from two folders of different names and depths; every artifact must be identical,
and no output may contain either folder's absolute path.
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
            if path.is_file() and path.suffix in {".html", ".json", ".txt", ".csv", ".ics", ".xml", ".js", ".srt"}:
                text = path.read_text(encoding="utf-8", errors="replace")
                assert str(tmp_path) not in text, path
