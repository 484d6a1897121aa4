"""Templates are data: every visual output comes from Jinja2 templates.

A content project may ship its own ``templates/`` folder; a file there overrides
the bundled default of the same name, file by file.
"""

from __future__ import annotations

import datetime as dt
import shutil
from functools import lru_cache
from pathlib import Path

import jinja2

from builder.model import ProjectFiles


def default_templates_dir() -> Path:
    packaged = Path(__file__).parent / "_templates"  # present in a wheel install
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


def template_dirs(project_root: Path) -> list[Path]:
    """The project's ``templates/`` (when it has one) before Kepu's own, each folder once."""
    return list(_template_dirs(project_root, (project_root / "templates").is_dir()))


@lru_cache(maxsize=64)
def _template_dirs(project_root: Path, has_own: bool) -> tuple[Path, ...]:
    # Resolving both folders is most of the cost, and a pictogram or template lookup asks
    # thousands of times a build; whether the project has its own folder is asked each time
    # (`kepu serve` sees one appear).
    bundled = default_templates_dir()
    own = project_root / "templates"
    if not has_own:
        return (bundled,)
    return (own,) if own.resolve() == bundled.resolve() else (own, bundled)


def chinese_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def make_environment(project: ProjectFiles, autoescape: bool = False) -> jinja2.Environment:
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
