"""One Markdown setup for every output that turns a lesson, quiz or campaign body into HTML.

The site renders page bodies through MkDocs with the extensions in
``templates/site/mkdocs.yml.j2``; every other output (posts, printed sheets,
exam papers, reports) converts fragments here with the same extensions, so an
admonition, a table or a task list written once reads the same in every medium.
``tests/test_architecture.py`` holds the two lists together.

The HTML returned here is *not* safe yet: every caller passes it through the
raw-HTML policy of :mod:`builder.sanitize` before it is placed anywhere.
"""

from __future__ import annotations

import threading

import markdown

# The site's list, without ``toc`` (anchors only matter on the site itself).
EXTENSIONS: tuple[str, ...] = (
    "abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables",
    "pymdownx.details", "pymdownx.superfences", "pymdownx.tasklist", "pymdownx.mark", "pymdownx.tilde",
)  # fmt: skip

# Column alignment as align="…", not style="…": content HTML keeps no style attribute
# (builder/sanitize.py), and the WeChat transform writes the alignment back as a checked style.
EXTENSION_CONFIGS: dict[str, dict[str, object]] = {
    "tables": {"use_align_attribute": True},
    "pymdownx.tasklist": {"custom_checkbox": True},
}

# Setting a converter up costs more than most conversions, and a converter keeps state
# between calls (footnotes, abbreviations), so each thread keeps one and resets it.
_local = threading.local()


def markdown_to_html(text: str) -> str:
    """``text`` as HTML fragments (unsanitised: clean it with :mod:`builder.sanitize`)."""
    converter: markdown.Markdown | None = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(
            extensions=list(EXTENSIONS), extension_configs=EXTENSION_CONFIGS, output_format="html"
        )
        _local.converter = converter
    return converter.reset().convert(text) if text else ""
