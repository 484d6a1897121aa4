"""No single character alone on the last line of a printed paragraph.

Chinese breaks between any two characters, so a paragraph, a key point or a title
can end with one character on a line of its own ("诊断高血/压"). Print shops and
readers count that as a typesetting fault, and WeasyPrint has no ``text-wrap:
pretty``. So the last word of every block — found with jieba, as cover titles are
(:mod:`builder.titles`), with its trailing punctuation, and with the word before it
when it is a single character — is kept on one line (``<span class="keep">``,
``white-space: nowrap`` in the print style sheet). The line then breaks before that
word: never inside it, never leaving one character behind.
"""

from __future__ import annotations

import re

from builder.titles import title_tokens

HAN = re.compile(r"[\u4e00-\u9fff]")
PUNCTUATION = "。，、；：？！）」》”’…—.,;:?!)"
# The text right before a block's end, possibly inside a few inline elements. The run of text
# is taken whole, from a tag (or the start) on, and never given back: tried from every
# character of a long run, it made the search quadratic on text without tags.
BLOCK_END = re.compile(
    r"(?<![^<>])(?P<text>[^<>]++)"
    r"(?P<close>(?:</(?:strong|em|b|i|span|a|sup|sub|mark|small)>\s{0,20}){0,3}"
    r"</(?:p|li|h[1-6]|td|th|dd|dt|figcaption|caption|blockquote)>)"
)
LOOKED_AT = 200  # characters before a block's end that the last word is looked for in
MAX_KEPT = 8  # characters; longer would risk a line that cannot hold it


def keep_last_words(html: str, words: tuple[str, ...] = ()) -> str:
    """``html`` with the last word of each block glued to its line (see the module)."""

    def glued(match: re.Match[str]) -> str:
        text = match.group("text")
        before, end = text[:-LOOKED_AT], text[-LOOKED_AT:]
        return before + _glued(end, words) + match.group("close")

    return BLOCK_END.sub(glued, html)


def _glued(text: str, words: tuple[str, ...]) -> str:
    core = text.rstrip(PUNCTUATION + " \u3000\n\t")
    tail = text[len(core) :]
    if not HAN.search(core[-1:] or ""):
        return text
    tokens = title_tokens(core[-16:], words)
    kept = tokens[-1]
    if len(kept) == 1 and len(tokens) > 1 and HAN.fullmatch(tokens[-2][-1:] or ""):
        kept = tokens[-2] + kept  # a one-character word (的、里、力) goes with the word before it
    if len(kept) < 2 or len(kept) + len(tail) > MAX_KEPT or len(kept) >= len(core):
        return text
    return f'{core[: -len(kept)]}<span class="keep">{kept}{tail}</span>'
