"""Templates are data: every visual output comes from Jinja2 templates.

A content project may ship its own ``templates/`` folder; a file there overrides
the bundled default of the same name, file by file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jinja2

from builder.model import Project


def default_templates_dir() -> Path:
    packaged = Path(__file__).parent / "_templates"  # present in a wheel install
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


def template_dirs(project_root: Path) -> list[Path]:
    dirs = [project_root / "templates", default_templates_dir()]
    unique = []
    for folder in dirs:
        if folder.is_dir() and folder.resolve() not in [d.resolve() for d in unique]:
            unique.append(folder)
    return unique


def chinese_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def make_environment(project: Project, autoescape: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs(project.root)]),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn_date"] = chinese_date
    env.globals["config"] = project.config
    return env


def copy_template_tree(project_root: Path, name: str, dest: Path) -> None:
    """Merge the folder ``name`` of every template dir into ``dest``; the project wins."""
    for folder in reversed(template_dirs(project_root)):
        src = folder / name
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
