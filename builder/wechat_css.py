"""The CSS subset a WeChat article may carry, as an allowlist.

Every style in a post is written inline, and the WeChat editor keeps only plain
declarations. A style here is an allowlist, not a filter of known-bad words: a
declaration is kept only when its property is a plain name and every function in
its value is a colour or ``calc()``; escapes, comments, at-rules and braces never
pass, so ``u\\72l(`` and ``image-set()`` cannot fetch anything.
"""

from __future__ import annotations

import re

# CSS values the editor drops or that break in WeChat's dark mode; any property whose
# name mentions "position" is dropped too (the article page ignores positioning).
FORBIDDEN_CSS = re.compile(r"var\(|!important|expression\(|url\(", re.IGNORECASE)
# A style is an allowlist, not a filter of known-bad words: the attacker run got past
# a url( filter with CSS escapes (u\72l) and image-set(). So a declaration is kept only
# when its property is a plain name and every function in its value is a colour or
# calc(); backslashes (escapes), comments, at-rules and braces never pass.
CSS_PROPERTY = re.compile(r"-?[a-z][a-z0-9-]*")
CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc"})
# Bounded: a longer name is not an allowed function anyway, and an unbounded run is
# quadratic on a long value (tests/test_fuzz_parsers.py).
CSS_FUNCTION_CALL = re.compile(r"([a-zA-Z0-9_-]{0,40})\s{0,10}\(")
CSS_NEVER = re.compile(r"[\\@<>{}]|/\*|\*/")
# A selector starts at the beginning or right after a brace, so a failed match is not
# retried from every later character (quadratic on text without braces).
RULE = re.compile(r"(?:^|(?<=[{}]))([^{}]+)\{([^{}]*)\}")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


Styles = dict[str, str]


def parse_styles(css: str) -> Styles:
    """Read ``role { declarations }`` rules; a role is a tag name or a named part."""
    styles: Styles = {}
    for selectors, declarations in RULE.findall(COMMENT.sub("", css)):
        cleaned = clean_style(declarations)
        for selector in selectors.split(","):
            role = selector.strip()
            if role:
                styles[role] = join_styles(styles.get(role, ""), cleaned)
    return styles


def safe_declaration(name: str, value: str) -> bool:
    """Whether ``name: value`` can neither fetch anything nor hide what it does."""
    if not CSS_PROPERTY.fullmatch(name) or "position" in name:
        return False
    if CSS_NEVER.search(value) or FORBIDDEN_CSS.search(value):
        return False
    return all(match.group(1).lower() in CSS_FUNCTIONS for match in CSS_FUNCTION_CALL.finditer(value))


def clean_style(declarations: str) -> str:
    """Normalise a declaration list and drop what WeChat cannot keep (or should not fetch)."""
    kept = []
    for declaration in declarations.split(";"):
        name, colon, value = declaration.partition(":")
        if not colon or not name.strip() or not value.strip():
            continue
        if not safe_declaration(name.strip().lower(), value.strip()):
            continue
        value = re.sub(r"\s*,\s*", ",", " ".join(value.split()))  # every character counts toward the 20,000
        kept.append(f"{name.strip().lower()}:{value}")
    return ";".join(kept)


def join_styles(*parts: str) -> str:
    """Merge declaration lists; a later declaration of the same property wins."""
    merged: dict[str, str] = {}
    for part in parts:
        for declaration in clean_style(part).split(";"):
            if declaration:
                name, _, value = declaration.partition(":")
                merged.pop(name, None)
                merged[name] = value
    return ";".join(f"{name}:{value}" for name, value in merged.items())
