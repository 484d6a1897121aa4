"""Health-content quality checks: plain language, clarity, trust, compliance.

Run by ``kepu check`` after the content has loaded. Every finding carries a
stable rule id (``plain-long-sentence``), a ``path:line`` location, a severity
and a one-line fix hint. A lesson or quiz silences rules in its front matter::

    checks:
      ignore: [clarity-calculation]
      reason: 配消毒液是助理员要掌握的技能，正文有算好的例子

and an ignore without a reason is itself an error. Thresholds live under
``checks:`` in ``site_config.yml`` (stricter ones per audience).

The readability score follows the Chinese language difficulty coefficient used
to grade Chinese patient-education materials (Wang et al., BMJ Open 2020;
10:e038091): average sentence length (Han characters per sentence) plus
difficult words per 100 words. Words come from jieba's dictionary; a word is
difficult when jieba's shipped IDF table (document frequencies of a large web
corpus) puts it outside everyday use, see :func:`is_difficult`. The clarity
rules are the automatable items of the CDC Clear Communication Index and of
AHRQ's PEMAT; the compliance rules cite the articles of the PRC Advertising Law
that ban the same words in health advertising (Art. 19 also bans advertising
disguised as health knowledge).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from builder.diagnostics import Diagnostic, Diagnostics, Severity
from builder.model import Lesson, PlainLimits, Project, Quiz, SiteConfig
from builder.prose import (
    HAN,
    SENTENCE_END,
    Cldc,
    Prose,
    Readability,
    Readings,
    Sentence,
    clean,
    han_count,
    read_prose,
    words,
)
from builder.schema import FieldReader
from builder.sources import Registry, citation_findings, claim_findings
from builder.yamlpos import YamlMap

# -- rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    name: str  # what the rule checks, in a few words
    hint: str  # one line: how to fix it
    basis: str  # where the rule comes from


W, E = Severity.WARNING, Severity.ERROR
RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("plain-score", W, "可读性得分超过上限",
             "把长句拆短、把难词换成常用说法，得分就会下降",
             "汉语文本难度系数 = 平均句长 + 每百词难词数（Wang 等，BMJ Open 2020）"),
        Rule("plain-average-sentence", W, "平均句子太长",
             "一句只说一件事：在逗号处断开，改成两三句",
             "可读性公式的句长项；CDC 清晰沟通指数第 10 项（读者熟悉的语言）"),
        Rule("plain-difficult-words", W, "难词太多",
             "把难词换成常用说法，或在第一次出现时加括号解释",
             "可读性公式的难词项；PEMAT 第 3、4 项（日常用语，术语要解释）"),
        Rule("plain-long-sentence", W, "句子太长",
             "在逗号处断开，一句只说一件事",
             "可读性公式的句长项"),
        Rule("clarity-main-message", W, "缺少主要信息",
             "summary 用一两句话写出读者最该记住的一件事，不要只写话题",
             "CDC 清晰沟通指数第 1 项（一条主要信息）；PEMAT 第 1 项（目的明确）"),
        Rule("clarity-action", W, "没有告诉读者该做什么",
             "至少一条要点写清读者该做什么，如「每年至少量一次血压」",
             "CDC 清晰沟通指数第 5、14 项（行动号召、行为建议）；PEMAT 第 20 项"),
        Rule("clarity-list-length", W, "列表太长",
             "一个列表不超过 7 项：分成几组，每组加一个小标题",
             "CDC 清晰沟通指数第 6 项（列表）"),
        Rule("clarity-headings", W, "长文没有小标题",
             "用 ## 小标题把正文分成几段，每段讲一件事",
             "CDC 清晰沟通指数第 7 项；PEMAT 第 10、11 项（分块、有信息量的标题）"),
        Rule("clarity-term", W, "术语没有解释",
             "术语第一次出现时用括号加大白话，如 收缩压（俗称“高压”）",
             "CDC 清晰沟通指数第 10 项；PEMAT 第 4 项（术语只在必要时用，并加解释）"),
        Rule("clarity-calculation", W, "要读者自己计算",
             "直接给出算好的数，或给一个算好的例子",
             "CDC 清晰沟通指数第 19 项；PEMAT 第 9 项（不要求读者计算）"),
        Rule("clarity-image-alt", W, "图片没有替代文字",
             "在 ![ ] 的方括号里写一句图片说明，读屏软件和加载失败时都靠它",
             "PEMAT 第 18 项（图片有说明）；无障碍要求"),
        Rule("trust-source", W, "没有注明信息来源",
             "在正文末尾加「## 参考资料」，列出依据的指南、标准或权威网站（名称、发布机构、年份）",
             "《关于建立健全全媒体健康科普知识发布和传播机制的指导意见》（2022）：基本要素齐备，有明确的来源、作者、发布时间、适用人群"),
        Rule("source-superseded", W, "引用的版本已被新版取代",
             "按新版核对正文和要点，再把参考资料换成新版（content/sources.yml 写着现行版本）",
             "《关于建立健全全媒体健康科普知识发布和传播机制的指导意见》（2022）：科普内容应科学、准确、及时更新"),
        Rule("source-season-over", W, "季节性指南已过适用期",
             "换成当季的版本（如新一季的流感疫苗接种技术指南），并在 content/sources.yml 登记",
             "流感疫苗接种技术指南每个流行季更新一版"),
        Rule("source-unregistered", W, "参考资料没有登记",
             "在 content/sources.yml 里登记这份资料（id、title、publisher，查得到就写 year），见 docs/editors.md",
             "只有登记过的来源，kepu check 才能提醒它被取代或过期"),
        Rule("claim-figure", W, "关键数值与来源不同",
             "对照 content/sources.yml 里 claims 的来源核对这个数；确实另有依据时写明出处，再用 checks 忽略",
             "数值表取自《中国公民健康素养——基本知识与技能（2024年版）》等登记的来源"),
        Rule("compliance-absolute-claim", W, "绝对化或承诺性用语",
             "改成有依据、留余地的说法，如「有助于控制」「大多数人」",
             "《广告法》第九条第三项、第十六条；第十九条不许以健康知识的形式变相发布医疗广告"),
        Rule("compliance-brand", W, "提到品牌或商品名",
             "换成通用名（如「上臂式电子血压计」）；确需保留时请审核人确认，再用 checks 忽略并写明理由",
             "《广告法》第十九条（不得以介绍健康知识的形式变相发布广告）"),
        Rule("checks-ignore", E, "忽略检查写得不对",
             "写成 checks: {ignore: [规则编号], reason: 为什么可以忽略}",
             "忽略必须有理由，方便审核人复查"),
        Rule("checks-unused-ignore", W, "忽略了没有触发的检查",
             "从 checks.ignore 里删掉这条，免得以后真出问题时被悄悄忽略",
             "忽略项要随内容更新"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class BuiltinRule:
    """A check done while loading content; ``kepu check`` reports it, SARIF names it."""

    id: str
    severity: Severity
    name: str
    pattern: re.Pattern[str]


BUILTIN_RULES = (
    BuiltinRule("trust-reviewer", W, "缺少审核人", re.compile(r"^缺少 reviewed_by")),
    BuiltinRule("trust-review-date", W, "缺少审核日期", re.compile(r"^缺少 reviewed_on")),
    BuiltinRule("trust-review-stale", W, "审核已过期", re.compile(r"^内容审核已超过")),
    BuiltinRule("fit-key-point", W, "要点放不进传单和视频", re.compile(r"^要点有 \d+ 个字")),
    BuiltinRule("fit-post-title", W, "标题放不进公众号", re.compile(r"^标题有 \d+ 个字，公众号")),
    BuiltinRule("fit-print", W, "印刷品排不下", re.compile(r"仍排不下一页")),
)


def rule_id(diagnostic: Diagnostic) -> str:
    """The rule of any diagnostic: its own, a built-in check's, or the generic content rule."""
    if isinstance(diagnostic, Finding):
        return diagnostic.rule
    for rule in BUILTIN_RULES:
        if rule.pattern.search(diagnostic.message):
            return rule.id
    return "content-error" if diagnostic.severity is Severity.ERROR else "content-warning"


@dataclass(frozen=True, order=True)
class Finding(Diagnostic):
    """A diagnostic of a quality rule: it knows its rule and how to fix it."""

    rule: str = ""
    hint: str = ""

    def __str__(self) -> str:
        return f"{super().__str__()} [{self.rule}]"


def limits_for(config: SiteConfig, audience_ids: Iterable[str]) -> dict[str, tuple[float, str]]:
    """Each plain-language limit for these readers: the strictest, with whom it is for."""
    per_audience = dict(config.checks.audiences)
    labels = {term.id: term.label for term in config.audiences.terms}
    result: dict[str, tuple[float, str]] = {}
    for key in ("score", "average_sentence", "difficult_words", "sentence"):
        value, who = getattr(config.checks.plain, key), "一般"
        for audience in audience_ids:
            limits: PlainLimits | None = per_audience.get(audience)
            if limits is not None and getattr(limits, key) < value:
                value, who = getattr(limits, key), f"「{labels.get(audience, audience)}」"
        result[key] = (value, who)
    return result


# -- silencing -----------------------------------------------------------------


@dataclass
class Silencing:
    rules: dict[str, int] = field(default_factory=dict)  # rule id → line where it is ignored
    reason: str = ""


def read_silencing(front: YamlMap, path: str, report: Report) -> Silencing:
    silencing = Silencing()
    value = front.get("checks")
    if value is None:
        return silencing
    line = front.line_of("checks")
    if not isinstance(value, YamlMap):
        report.add("checks-ignore", line, "checks 应写成 {ignore: [规则编号], reason: 理由}")
        return silencing
    scratch = Diagnostics()
    reader = FieldReader(value, path, scratch, where="checks")
    reader.check_keys(("ignore", "reason"))
    items = reader.text_items("ignore", required=False)
    reason = reader.text("reason", required=False) or ""
    for problem in scratch.items:
        report.add("checks-ignore", problem.line, problem.message)
    for rule, item_line in items:
        if rule not in RULES or rule.startswith("checks-"):
            known = [name for name in RULES if not name.startswith("checks-")]
            close = difflib.get_close_matches(rule, known, n=1, cutoff=0.6)
            hint = f"，是不是 '{close[0]}'？" if close else "（规则编号见 kepu check 输出方括号里的名字）"
            report.add("checks-ignore", item_line, f"checks.ignore 里的 '{rule}' 不是可以忽略的规则{hint}")
            continue
        silencing.rules[rule] = item_line
    if silencing.rules and not reason:
        report.add("checks-ignore", line, "忽略检查必须写明理由：在 checks 里加 reason: 为什么可以忽略")
        silencing.rules.clear()  # an ignore without a reason silences nothing
    elif reason and not items:
        report.add("checks-ignore", line, "checks 写了 reason 但没有 ignore：要忽略哪条规则？")
    silencing.reason = reason
    return silencing


# -- reports -------------------------------------------------------------------


@dataclass
class Report:
    """Findings of one lesson or quiz, before and after its ignores."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    silenced: list[Finding] = field(default_factory=list)

    def add(self, rule_id: str, line: int, message: str) -> None:
        rule = RULES[rule_id]
        self.findings.append(Finding(self.path, line, message, rule.severity, rule.id, rule.hint))

    def apply(self, silencing: Silencing) -> None:
        kept = []
        for finding in self.findings:
            (self.silenced if finding.rule in silencing.rules else kept).append(finding)
        self.findings = kept
        fired = {finding.rule for finding in self.silenced}
        for rule, line in silencing.rules.items():
            if rule not in fired:
                self.add("checks-unused-ignore", line, f"checks 忽略了 '{rule}'，但这条检查没有发现问题")


@dataclass
class LessonReport(Report):
    lesson: Lesson | None = None
    readability: Readability | None = None
    cldc: Cldc | None = None  # the published formula (prose.cldc), reported beside our score
    limits: dict[str, tuple[float, str]] = field(default_factory=dict)
    reason: str = ""


@dataclass
class QualityReport:
    lessons: list[LessonReport]
    quizzes: list[Report]

    def findings(self) -> Iterator[Finding]:
        for report in [*self.lessons, *self.quizzes]:
            yield from report.findings


def check_quality(
    project: Project,
    diagnostics: Diagnostics | None = None,
    readings: Readings | None = None,
    lessons: Iterable[Lesson] | None = None,
) -> QualityReport:
    """Run every quality rule on every lesson (or only ``lessons``) and quiz; add the findings to ``diagnostics``.

    ``readings`` has the readability scores of earlier builds (the site's dashboard keeps them).
    """
    readings = readings or Readings()
    report = QualityReport(
        lessons=[
            check_lesson(project, lesson, readings)
            for lesson in (project.lessons if lessons is None else lessons)
        ],
        quizzes=[check_quiz(project, quiz) for quiz in project.quizzes],
    )
    if diagnostics is not None:
        diagnostics.items.extend(report.findings())
    return report


def _front(lines: dict[str, int], checks: Any) -> YamlMap:
    """The part of a file's front matter the rules read, rebuilt from the model (never the file)."""
    front = YamlMap()
    front.key_lines = dict(lines)
    front.line = 1
    if checks is not None:
        front["checks"] = checks
    return front


# -- lessons -------------------------------------------------------------------

ACTION = re.compile(
    r"要|请|别|不要|不能|应|须|必须|记得|尽快|马上|立即|及时|按时|定期|坚持|拨打|就医|避免|建议"
)
CALCULATION = re.compile(
    r"÷|乘以|除以|[=＝]\s{0,5}[^=＝\n]{0,80}[×*/+\-－]|[×*/+\-－][^=＝\n]{0,80}[=＝]|等于[^\n]{0,80}[×÷*/+]"
)


def check_lesson(project: Project, lesson: Lesson, readings: Readings | None = None) -> LessonReport:
    config = project.config
    report = LessonReport(lesson.source, lesson=lesson)
    front = _front(lesson.lines, lesson.checks)
    silencing = read_silencing(front, lesson.source, report)
    report.reason = silencing.reason
    prose = read_prose(lesson.body, lesson.body_line)
    limits = limits_for(config, [term.id for term in lesson.audiences])
    report.limits = limits
    terms = config.checks.terms
    score, report.cldc = (readings or Readings()).scores(prose.sentences, skip=terms)
    report.readability = score

    # Plain language
    plain_checks(report, prose.sentences, limits)
    body_line = lesson.body_line
    value, who = limits["score"]
    if score.sentences and score.score > value:
        report.add(
            "plain-score", body_line,
            f"可读性得分 {score.score:.1f}（平均句长 {score.average_sentence:.1f} 字 + 每百词难词 "
            f"{score.difficult_per_100:.1f} 个），超过{who}读者的上限 {value:g}",
        )  # fmt: skip
    value, who = limits["average_sentence"]
    if score.sentences and score.average_sentence > value:
        report.add(
            "plain-average-sentence", body_line,
            f"平均每句 {score.average_sentence:.1f} 个字，超过{who}读者的上限 {value:g} 个字",
        )  # fmt: skip
    value, who = limits["difficult_words"]
    if score.words and score.difficult_per_100 > value:
        examples = "、".join(word for word, _ in score.rare[:5])
        report.add(
            "plain-difficult-words", body_line,
            f"每百词有 {score.difficult_per_100:.1f} 个难词，超过{who}读者的上限 {value:g} 个"
            + (f"（如 {examples}）" if examples else ""),
        )  # fmt: skip
        for word, line in score.rare[:8]:
            report.add("plain-difficult-words", line, f"「{word}」是不常用的词，{who}读者可能看不懂")

    # Clarity
    summary_line = front.line_of("summary")
    if han_count(lesson.summary) < 10 or _same(lesson.summary, lesson.title):
        report.add(
            "clarity-main-message", summary_line,
            f"summary「{lesson.summary}」没有说出主要信息：读者看完该记住什么？",
        )  # fmt: skip
    if not any(ACTION.search(text) for text in [*lesson.key_points, *(s.text for s in prose.sentences)]):
        report.add("clarity-action", front.line_of("key_points"), "要点和正文都没有告诉读者该做什么")
    for line, items in prose.lists:
        if items > 7:
            report.add("clarity-list-length", line, f"这个列表有 {items} 项，超过 7 项读者很难记住")
    if prose.han > 400 and not any(level >= 2 for _, level, _ in prose.headings):
        report.add("clarity-headings", body_line, f"正文有 {prose.han} 个字，却没有一个 ## 小标题")
    for term in terms:
        line = unexplained_at_first_use(term, prose)
        if line:
            report.add("clarity-term", line, f"术语「{term}」第一次出现时没有解释")
    for line, text in prose.text_lines:
        if CALCULATION.search(text):
            report.add("clarity-calculation", line, f"这里要读者自己计算：「{_excerpt(text, 24)}」")
    for line, alt in prose.images:
        if not alt:
            report.add("clarity-image-alt", line, "图片没有替代文字（方括号里是空的）")

    # Trust: a source named, and (with a registry) current, in season and registered
    if not prose.has_source:
        report.add("trust-source", body_line, "没有注明信息来源（参考资料、依据的指南或标准）")
    registry = project.sources or Registry()
    for finding in citation_findings(registry, lesson.body, body_line):
        report.add(finding.rule, finding.line, finding.message)
    texts = [(front.line_of("title"), lesson.title), (summary_line, lesson.summary)]
    texts += list(zip(lesson.key_point_lines, lesson.key_points, strict=True))
    for finding in claim_findings(registry, texts + prose.text_lines):
        report.add(finding.rule, finding.line, finding.message)

    # Compliance
    compliance_checks(report, texts + prose.text_lines, config)
    report.apply(silencing)
    return report


def plain_checks(report: Report, sentences: Iterable[Sentence], limits: dict[str, tuple[float, str]]) -> None:
    value, who = limits["sentence"]
    for sentence in sentences:
        if sentence.length > value:
            report.add(
                "plain-long-sentence", sentence.line,
                f"这句话有 {sentence.length} 个字，超过{who}读者的上限 {value:g} 个字："
                f"「{_excerpt(sentence.text, 16)}」",
            )  # fmt: skip


def _same(a: str, b: str) -> bool:
    def plain(text: str) -> str:
        return "".join(HAN.findall(text))

    return plain(a) == plain(b)


def _excerpt(text: str, length: int) -> str:
    return text if len(text) <= length else text[:length] + "……"


EXPLAIN_AFTER = re.compile(
    r"^[”」』\"]?\s*[（(]|^[^，。；！？]{0,2}(是|就是|指|叫|即|也就是|俗称|又称|又叫|也叫|简称|意思是|说成|[:：])"
)
EXPLAIN_BEFORE = re.compile(
    r"(这就是|就是|叫做|叫作|称为|称作|就叫|叫|俗称|也就是|即|[（(])[“「\"]?[\u4e00-\u9fff]{0,4}$"
)


def unexplained_at_first_use(term: str, prose: Prose) -> int | None:
    """The line where ``term`` is first used without a plain explanation, or None.

    Explained means: a bracket right after it (收缩压（俗称“高压”）), a definition
    right after it (尘肺病是…) or right before it (…这就是尘肺病), the term itself
    in brackets after a plain word (中风（脑卒中）), or a heading that asks
    什么是… before it.
    """
    asked = False
    heading_lines = {line for line, _, _ in prose.headings}
    for line, text in prose.text_lines:
        if line in heading_lines:
            if term in text and ("什么是" in text or "是什么" in text or text.startswith("认识")):
                asked = True
            continue
        position = text.find(term)
        if position < 0:
            continue
        if asked:
            return None
        before, after = text[:position], text[position + len(term) :]
        if EXPLAIN_AFTER.search(after) or EXPLAIN_BEFORE.search(before):
            return None
        return line
    return None


CLAIMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), article)
    for pattern, article in (
        (r"国家级|最高级|最佳|最先进|唯一|顶级", "第九条第三项：不得使用“国家级”“最高级”“最佳”等用语"),
        (r"根治|彻底治愈|彻底根除|保证治愈|包治|药到病除|永不复发|一次见效|无毒副作用|无副作用|零副作用|零风险|"
         r"(?:100|百分之百)%?(?:有效|治愈|安全)|无效退款",
         "第十六条第一项：不得含有表示功效、安全性的断言或者保证"),
        (r"治愈率|有效率|显效率", "第十六条第二项：不得说明治愈率或者有效率"),
    )
)  # fmt: skip
NEGATION = re.compile(r"(不|不能|无法|难以|没法|没有|并非|不是|不可能|谈不上)[\u4e00-\u9fff]{0,1}$")
TRADEMARK = re.compile(r"[^\s，。；、（）()]{1,12}[®™]")
BRAND_PRODUCT = re.compile(
    r"(?<![品名招门号车标示])牌(?:子)?[\u4e00-\u9fff]{0,6}?"
    r"(?:药|片|丸|胶囊|冲剂|颗粒|口服液|膏|贴|奶粉|血压计|血糖仪|保健品|维生素|钙片|口罩|消毒液|茶|酒)"
)


def compliance_checks(report: Report, texts: Iterable[tuple[int, str]], config: SiteConfig) -> None:
    brands = [re.escape(brand) for brand in config.checks.brands]
    configured = re.compile("|".join(brands)) if brands else None
    for line, text in texts:
        for pattern, article in CLAIMS:
            for match in pattern.finditer(text):
                if NEGATION.search(text[: match.start()]):
                    continue
                report.add(
                    "compliance-absolute-claim", line,
                    f"「{match.group(0)}」是绝对化或承诺性用语（《广告法》{article}），健康科普里也不要用",
                )  # fmt: skip
        found = [m.group(0) for m in TRADEMARK.finditer(text)]
        for match in BRAND_PRODUCT.finditer(text):  # 某某牌降压片: the word before 牌 is the brand
            before = words().cut(text[: match.start()])
            if before:
                found.append(before[-1] + match.group(0))
        if configured:
            found += [m.group(0) for m in configured.finditer(text)]
        for name in dict.fromkeys(found):
            report.add("compliance-brand", line, f"提到了品牌或商品名「{name}」，请审核人确认这不是广告")


# -- quizzes -------------------------------------------------------------------


def check_quiz(project: Project, quiz: Quiz) -> Report:
    """Question stems, explanations and the intro — never the options: wrong options
    are meant to be wrong (「高血压可以根治」 as a 错 answer is good teaching)."""
    report = Report(quiz.source)
    front = _front(quiz.lines, quiz.checks)
    silencing = read_silencing(front, quiz.source, report)
    texts: list[tuple[int, str]] = [(front.line_of("title"), quiz.title)]
    texts += [(line, text) for line, raw in quiz.prose_lines if (text := clean(raw))]
    limits = limits_for(project.config, [term.id for term in quiz.audiences])
    sentences = [Sentence(line, piece.strip()) for line, text in texts for piece in SENTENCE_END.split(text)]
    plain_checks(report, [s for s in sentences if HAN.search(s.text)], limits)
    compliance_checks(report, texts, project.config)
    # Figures in stems and explanations (never the options, which may be wrong on purpose).
    for finding in claim_findings(project.sources or Registry(), texts):
        report.add(finding.rule, finding.line, finding.message)
    report.apply(silencing)
    return report


# -- the rules as documentation ------------------------------------------------


def rule_table() -> list[tuple[str, str, str, str]]:
    """(id, severity, name, hint) of every rule, quality rules first — for docs and SARIF."""
    rows = [(rule.id, rule.severity.value, rule.name, rule.hint) for rule in RULES.values()]
    rows += [(rule.id, rule.severity.value, rule.name, "见 kepu check 的提示") for rule in BUILTIN_RULES]
    return rows


def grouped_text(diagnostics: Diagnostics) -> list[str]:
    """``kepu check`` text output: one block per file, each finding with its fix hint."""
    by_file: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics.sorted():
        by_file.setdefault(diagnostic.path, []).append(diagnostic)
    lines: list[str] = []
    for path, items in by_file.items():
        errors = sum(item.severity is Severity.ERROR for item in items)
        counts = [f"{errors} 个错误"] if errors else []
        counts += [f"{len(items) - errors} 个警告"] if len(items) > errors else []
        lines += ([""] if lines else []) + [f"{path}（{'，'.join(counts)}）"]
        for item in sorted(items, key=lambda d: (d.line, d.message)):
            lines.append(f"  {item}")
            if isinstance(item, Finding) and item.hint:
                lines.append(f"      提示：{item.hint}")
    return lines
