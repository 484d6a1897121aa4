"""``kepu check`` findings for Git hosts: SARIF 2.1.0 and GitLab Code Quality.

GitHub shows a SARIF log uploaded by ``github/codeql-action/upload-sarif`` as
annotations on the changed lines of a pull request; GitLab shows a Code Quality
report (``artifacts: reports: codequality:``) in the merge request. Both carry
every diagnostic — load errors, output-fit warnings and quality findings — with
its rule id, so a reviewer sees which rule to read about or silence.
"""

from __future__ import annotations

import hashlib
import json

from builder import __version__
from builder.diagnostics import Diagnostic, Diagnostics, Severity
from builder.quality import BUILTIN_RULES, RULES, Finding, rule_id

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
GENERIC_RULES = {
    "content-error": ("内容错误", "按提示改正内容文件；格式说明见 docs/content-format.md"),
    "content-warning": ("内容警告", "按提示修改，或确认无误后保留"),
}


def _rules() -> list[dict[str, object]]:
    """Every rule a result may name, in a stable order (results point at them by index)."""
    rows: list[tuple[str, Severity, str, str]] = [
        (rule.id, rule.severity, rule.name, f"{rule.hint}（依据：{rule.basis}）") for rule in RULES.values()
    ]
    rows += [(rule.id, rule.severity, rule.name, "按 kepu check 的提示修改") for rule in BUILTIN_RULES]
    rows += [
        (name, Severity.ERROR if name.endswith("error") else Severity.WARNING, title, hint)
        for name, (title, hint) in GENERIC_RULES.items()
    ]
    return [
        {
            "id": name,
            "name": "".join(part.capitalize() for part in name.split("-")),
            "shortDescription": {"text": title},
            "help": {"text": hint},
            "defaultConfiguration": {"level": severity.value},
        }
        for name, severity, title, hint in rows
    ]


def _message(diagnostic: Diagnostic) -> str:
    if isinstance(diagnostic, Finding) and diagnostic.hint:
        return f"{diagnostic.message}。提示：{diagnostic.hint}"
    return diagnostic.message


def to_sarif(diagnostics: Diagnostics) -> str:
    """A SARIF 2.1.0 log with one run of ``kepu``; paths are relative to the project folder."""
    rules = _rules()
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for diagnostic in diagnostics.sorted():
        name = rule_id(diagnostic)
        location: dict[str, object] = {"artifactLocation": {"uri": diagnostic.path, "uriBaseId": "%SRCROOT%"}}
        if diagnostic.line > 0:
            location["region"] = {"startLine": diagnostic.line}
        results.append(
            {
                "ruleId": name,
                "ruleIndex": index[name],
                "level": diagnostic.severity.value,
                "message": {"text": _message(diagnostic)},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"kepu/v1": _fingerprint(diagnostic, name)},
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kepu",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "内容项目的根目录"}}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def _fingerprint(diagnostic: Diagnostic, name: str) -> str:
    """Stable across runs and line shifts: file, rule and message, not the line number."""
    text = "\0".join((diagnostic.path, name, diagnostic.message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def to_gitlab(diagnostics: Diagnostics) -> str:
    """A GitLab Code Quality report: errors are major, warnings minor."""
    issues = []
    for diagnostic in diagnostics.sorted():
        name = rule_id(diagnostic)
        issues.append(
            {
                "description": f"{_message(diagnostic)} [{name}]",
                "check_name": name,
                "fingerprint": _fingerprint(diagnostic, name),
                "severity": "major" if diagnostic.severity is Severity.ERROR else "minor",
                "location": {"path": diagnostic.path, "lines": {"begin": max(1, diagnostic.line)}},
            }
        )
    return json.dumps(issues, ensure_ascii=False, indent=2)
