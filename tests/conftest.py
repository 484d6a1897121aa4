"""Shared fixtures: a small content project, copied per test, and one built site per session."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.diagnostics import Diagnostics
from builder.pipeline import build
from builder.project import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "project"
REPO = Path(__file__).resolve().parent.parent
# Fixed "today" so review-age warnings do not depend on when the suite runs.
TODAY = dt.date(2026, 11, 1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private, writable copy of the fixture project."""
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    return dest


@pytest.fixture
def write(project: Path) -> Callable[[str, str], Path]:
    """Write a file into the project copy; text is dedented so tests read naturally."""

    def _write(rel: str, text: str) -> Path:
        dest = project / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return dest

    return _write


@pytest.fixture
def diagnose(project: Path) -> Callable[[], list[str]]:
    """Validate the project copy; return every diagnostic as its printed line."""

    def _diagnose() -> list[str]:
        diagnostics = Diagnostics()
        load_project(project, diagnostics, today=TODAY)
        return [str(d) for d in diagnostics.sorted()]

    return _diagnose


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project built once for the whole session; returns the output folder."""
    root = tmp_path_factory.mktemp("built") / "project"
    shutil.copytree(FIXTURE, root)
    build(root, only=["site"], today=TODAY)
    return root / "public"
