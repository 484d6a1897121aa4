"""Measured results of a campaign: ``content/results/<campaign-slug>/``.

Organisers keep sign-in counts, quiz answers, satisfaction scores and forwarding
counts in spreadsheets; these files are content like any other: read once, at load
time, into the model (nothing opens them afterwards), and every bad row is reported
as ``path:line: message`` — all of them in one run. For an ``.xlsx`` export the line
is the sheet's row number and the message starts with the cell (``Sheet1!C5``).

Files (each ``.csv`` UTF-8, or ``.xlsx`` for the quizzes as 问卷星/腾讯问卷 export them):

* ``attendance.csv`` — ``date,activity,expected,attended``, one row per held activity;
* ``quiz-before`` / ``quiz-after`` — one row per respondent, one column per question
  (``1``, ``Q1``, ``第1题`` or 问卷星's ``1、题目``), answers as letters (``B``, ``AC``,
  ``A┋C``) or option texts; scored against the campaign's ``quiz:``;
* ``survey.csv`` — ``score`` (1–5) and optionally ``date,activity``;
* ``reach.csv`` — ``date,activity,total,forwarded`` (groups in all, groups it reached).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from builder.diagnostics import Diagnostics
from builder.model import Activity, Campaign, Question, Quiz
from builder.paths import inside, read_text

RESULTS_DIR = "content/results"
NOTE = "README.md"  # a few lines on where the numbers come from (示例数据, 问卷星导出 …)
MAX_NOTE_CHARS = 500
FILES = ("attendance", "quiz-before", "quiz-after", "survey", "reach")
MAX_ROWS = 20_000  # a district's sign-in sheets for a year are a few hundred rows
MAX_COLUMNS = 300
MAX_COUNT = 100_000  # people at one activity, groups for one post
MAX_XLSX_BYTES = 5 << 20
MAX_XLSX_UNPACKED = 50 << 20  # a zip bomb unpacks to gigabytes; a survey export to a few MB
HEADERS = {
    "attendance": {"date": ("date", "日期"), "activity": ("activity", "活动"),
                   "expected": ("expected", "应到"), "attended": ("attended", "实到")},
    "survey": {"score": ("score", "评分", "满意度"), "date": ("date", "日期"), "activity": ("activity", "活动")},
    "reach": {"date": ("date", "日期"), "activity": ("activity", "活动"),
              "total": ("total", "群总数"), "forwarded": ("forwarded", "已转发")},
}  # fmt: skip
REQUIRED = {"attendance": ("date", "activity", "expected", "attended"), "survey": ("score",),
            "reach": ("date", "activity", "total", "forwarded")}  # fmt: skip
# Possessive spaces (*+): two optional runs of \s side by side would otherwise try every split.
QUESTION_HEADER = re.compile(r"^\s*+(?:Q|q|第)?\s*+(\d{1,3})\s*+(?:题)?\s*+(?:[、.．:：)）]\s*+.*)?$", re.DOTALL)
LETTERS = re.compile(r"^[A-Za-z](?:\s*[,，、┋|;；]?\s*[A-Za-z])*$")
SEPARATORS = re.compile(r"[┋|;；]")  # the parts are stripped: "\s*[…]\s*" rescans a run of spaces from each


@dataclass(frozen=True)
class AttendanceRow:
    date: dt.date
    title: str
    expected: int
    attended: int
    line: int
    channel: str  # the activity's channel label


@dataclass(frozen=True)
class ReachRow:
    date: dt.date
    title: str
    total: int
    forwarded: int
    line: int
    channel: str


@dataclass(frozen=True)
class QuizAnswers:
    """One quiz file scored: per question (number from 1) how many answered and got it right."""

    source: str
    respondents: int
    answered: tuple[int, ...]  # per question
    correct: tuple[int, ...]  # per question


@dataclass
class CampaignResults:
    folder: str  # project-relative
    # Every file read, for the report's manifest entry.
    sources: list[str] = field(default_factory=list)
    attendance: list[AttendanceRow] = field(default_factory=list)
    reach: list[ReachRow] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)  # satisfaction, 1–5
    quiz_before: QuizAnswers | None = None
    quiz_after: QuizAnswers | None = None
    note: str = ""  # README.md of the folder: where the numbers come from, shown on the report


@dataclass(frozen=True)
class Row:
    """One data row of a table, with where each cell is for messages."""

    line: int  # the file's line (CSV) or the sheet's row (xlsx)
    cells: tuple[str, ...]
    sheet: str | None = None  # xlsx: the sheet's name, so cells read "Sheet1!C5"

    def where(self, column: int) -> str:
        return f"{self.sheet}!{column_letter(column)}{self.line}：" if self.sheet else ""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- reading a table ------------------------------------------------------------------


def read_csv_table(root: Path, path: Path, diagnostics: Diagnostics) -> tuple[str, list[Row]] | None:
    """Header and rows of a UTF-8 CSV (the line of each row is where the row starts)."""
    text = read_text(root, path, diagnostics)
    if text is None:
        return None
    rel = path.relative_to(root).as_posix()
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text))
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if len(rows) > MAX_ROWS:
                diagnostics.error(rel, line, f"超过 {MAX_ROWS} 行：请按年份拆成几个文件")
                return None
            if len(record) > MAX_COLUMNS:
                diagnostics.error(rel, line, f"这一行有 {len(record)} 列，最多 {MAX_COLUMNS} 列")
                return None
            if any(cell.strip() for cell in record):
                rows.append(Row(line, tuple(cell.strip() for cell in record)))
    except csv.Error as error:
        diagnostics.error(rel, start, f"CSV 格式有误：{error}")
        return None
    return rel, rows


def read_xlsx_table(root: Path, path: Path, diagnostics: Diagnostics) -> tuple[str, list[Row]] | None:
    """Header and rows of the first sheet of an .xlsx (问卷星/腾讯问卷 export), values not formulas."""
    rel = path.relative_to(root).as_posix()
    if not inside(root, path) or not path.is_file():
        diagnostics.error(rel, 0, "这个文件是指向项目以外的链接或不是普通文件：只能用项目里的文件")
        return None
    size = path.stat().st_size
    if size > MAX_XLSX_BYTES:
        diagnostics.error(rel, 0, f"文件有 {size >> 20} MB，最多 {MAX_XLSX_BYTES >> 20} MB")
        return None
    data = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        diagnostics.error(rel, 0, "不是 Excel（.xlsx）文件，或文件已损坏：请从问卷星重新导出，或另存为 CSV")
        return None
    if unpacked > MAX_XLSX_UNPACKED:
        diagnostics.error(rel, 0, f"解压后有 {unpacked >> 20} MB，太大了，可能是恶意文件")
        return None
    import openpyxl  # only a project with an .xlsx pays for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # openpyxl raises many kinds of error for a broken workbook; the editor needs one sentence.
    except Exception as error:
        diagnostics.error(rel, 0, f"无法读取这个 Excel 文件（{type(error).__name__}）：请另存为 .xlsx 或 CSV")
        return None
    sheet = book.worksheets[0]
    if (sheet.max_row or 0) > MAX_ROWS + 1 or (sheet.max_column or 0) > MAX_COLUMNS:
        diagnostics.error(
            rel, 0, f"工作表「{sheet.title}」有 {sheet.max_row} 行、{sheet.max_column} 列，太大了"
        )
        book.close()
        return None
    rows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
        if number > MAX_ROWS + 1:
            diagnostics.error(rel, number, f"超过 {MAX_ROWS} 行")
            break
        cells = tuple(_cell_text(value) for value in values)
        if any(cells):
            rows.append(Row(number, cells, sheet.title))
    book.close()
    return rel, rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def find_table(root: Path, folder: Path, name: str, diagnostics: Diagnostics) -> tuple[str, list[Row]] | None:
    csv_path, xlsx_path = folder / f"{name}.csv", folder / f"{name}.xlsx"
    if csv_path.exists() and xlsx_path.exists():
        rel = xlsx_path.relative_to(root).as_posix()
        diagnostics.error(rel, 0, f"{name}.csv 和 {name}.xlsx 只能留一个")
        return None
    if xlsx_path.exists():
        return read_xlsx_table(root, xlsx_path, diagnostics)
    if csv_path.exists() or csv_path.is_symlink():
        return read_csv_table(root, csv_path, diagnostics)
    return None


# -- the columns of a table ---------------------------------------------------------


def header_map(kind: str, rel: str, header: Row, diagnostics: Diagnostics) -> dict[str, int] | None:
    """Column index of each known header; an unknown or missing column is an error at the header."""
    found: dict[str, int] = {}
    names = HEADERS[kind]
    for index, cell in enumerate(header.cells):
        key = next((key for key, aliases in names.items() if cell.lower() in aliases), None)
        if key is None:
            if cell:
                known = "、".join(aliases[0] for aliases in names.values())
                diagnostics.error(
                    rel, header.line, f"{header.where(index)}不认识的列 '{cell}'（可用的列：{known}）"
                )
            continue
        if key in found:
            diagnostics.error(rel, header.line, f"{header.where(index)}列 '{cell}' 重复了")
        found[key] = index
    missing = [key for key in REQUIRED[kind] if key not in found]
    if missing:
        diagnostics.error(
            rel, header.line, f"缺少列：{', '.join(missing)}（第一行应是 {','.join(REQUIRED[kind])}）"
        )
        return None
    return found


def cell(row: Row, columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return row.cells[index] if index is not None and index < len(row.cells) else ""


def read_date(text: str) -> dt.date | None:
    text = text.strip().replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日", text
    )
    if not match:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def read_count(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,9}", text.strip()) else None


class ActivityIndex:
    """The campaign's activities by title, to tie a row to the occurrence it reports."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.by_title: dict[str, list[Activity]] = {}
        for activity in campaign.activities:
            self.by_title.setdefault(activity.title, []).append(activity)

    def find(self, title: str, day: dt.date) -> tuple[Activity | None, str | None]:
        """The activity of ``title`` on ``day``, or the message saying why there is none."""
        if not title:
            return None, "缺少活动名称（activity）"
        if not self.campaign.start <= day <= self.campaign.end:
            return None, f"日期 {day} 不在活动时间（{self.campaign.start} 至 {self.campaign.end}）之内"
        series = self.by_title.get(title)
        if series is None:
            close = difflib.get_close_matches(title, list(self.by_title), n=1, cutoff=0.5)
            hint = f"，是不是「{close[0]}」？" if close else "（要和活动计划里 activities 的 title 一字不差）"
            return None, f"计划里没有活动「{title}」{hint}"
        held = next((a for a in series if a.date == day), None)
        if held is None:
            dates = "、".join(f"{a.date.month}月{a.date.day}日" for a in series[:6]) + (
                "等" if len(series) > 6 else ""
            )
            return None, f"活动「{title}」没有安排在 {day}（计划的日期：{dates}）"
        return held, None


def dated_rows(
    kind: str,
    rel: str,
    rows: list[Row],
    index: ActivityIndex,
    numbers: tuple[str, str],
    diagnostics: Diagnostics,
) -> Iterator[tuple[Row, Activity, int, int]]:
    """Rows of attendance/reach: the activity they report and their two counts, each mistake at its line."""
    columns = header_map(kind, rel, rows[0], diagnostics)
    if columns is None:
        return
    seen: dict[tuple[dt.date, str], int] = {}
    whole, part = numbers
    for row in rows[1:]:
        problems = []
        if len(row.cells) > len(rows[0].cells):
            problems.append(f"这一行有 {len(row.cells)} 列，第一行只有 {len(rows[0].cells)} 列（多了逗号？）")
        day_text = cell(row, columns, "date")
        day = read_date(day_text)
        if day is None:
            problems.append(f"日期 '{day_text}' 应写成 2026-05-08")
        values = {}
        for key in numbers:
            text = cell(row, columns, key)
            value = read_count(text)
            if value is None:
                problems.append(f"{key} '{text}' 应是不小于 0 的整数")
            elif value > MAX_COUNT:
                problems.append(f"{key} {value} 太大了（最多 {MAX_COUNT}）")
            else:
                values[key] = value
        if whole in values and part in values:
            if values[whole] == 0:
                problems.append(f"{whole} 是 0：无法算比例")
            elif values[part] > values[whole]:
                problems.append(f"{part} {values[part]} 大于 {whole} {values[whole]}")
        activity = None
        title = cell(row, columns, "activity")
        if day is not None:
            activity, problem = index.find(title, day)
            if problem:
                problems.append(problem)
            elif (day, title) in seen:
                problems.append(f"和第 {seen[(day, title)]} 行重复：同一场活动只写一行")
            else:
                seen[(day, title)] = row.line
        for problem in problems:
            diagnostics.error(rel, row.line, row.where(columns.get("date", 0)) + problem)
        if not problems and activity is not None:
            yield row, activity, values[whole], values[part]


# -- scoring a quiz ---------------------------------------------------------------


def chosen_options(question: Question, text: str) -> tuple[frozenset[int] | None, str | None]:
    """The options (0-based) an answer cell picks: letters (B, AC, A┋C) or option texts joined by ┋."""
    text = text.strip()
    if not text:
        return frozenset(), None
    count = len(question.options)
    if LETTERS.match(text):
        letters = [char.upper() for char in text if char.isalpha()]
        picked = frozenset(ord(letter) - 65 for letter in letters)
        if max(picked) >= count:
            return (
                None,
                f"第 {question.number} 题只有 {count} 个选项（A–{chr(64 + count)}），答案 '{text}' 不对",
            )
    else:
        texts = {option.text.strip(): i for i, option in enumerate(question.options)}
        picked_list = []
        for part in (piece.strip() for piece in SEPARATORS.split(text)):
            if part not in texts:
                return (
                    None,
                    f"第 {question.number} 题没有选项 '{part[:30]}'（答案写字母，或和题目里的选项一字不差）",
                )
            picked_list.append(texts[part])
        picked = frozenset(picked_list)
    if question.kind != "multiple" and len(picked) > 1:
        return None, f"第 {question.number} 题是单选题，答案 '{text}' 选了 {len(picked)} 项"
    return picked, None


def score_quiz(rel: str, rows: list[Row], quiz: Quiz, diagnostics: Diagnostics) -> QuizAnswers | None:
    header = rows[0]
    columns: dict[int, int] = {}  # question number → column
    for index, name in enumerate(header.cells):
        match = QUESTION_HEADER.match(name)
        if not match:
            continue  # 序号、提交答卷时间、来源 … of an export
        number = int(match.group(1))
        if not 1 <= number <= len(quiz.questions):
            diagnostics.error(
                rel,
                header.line,
                f"{header.where(index)}第 {number} 题不在测验「{quiz.title}」里（共 {len(quiz.questions)} 题）",
            )
        elif number in columns:
            diagnostics.error(rel, header.line, f"{header.where(index)}第 {number} 题有两列")
        else:
            columns[number] = index
    missing = [str(q.number) for q in quiz.questions if q.number not in columns]
    if missing:
        diagnostics.error(
            rel, header.line, f"缺少第 {'、'.join(missing)} 题的列（列名写题号，如 1 或 Q1 或 “1、题目”）"
        )
        return None
    answered = [0] * len(quiz.questions)
    correct = [0] * len(quiz.questions)
    respondents = 0
    for row in rows[1:]:
        picks: list[frozenset[int]] = []
        bad = False
        for question in quiz.questions:
            column = columns[question.number]
            text = row.cells[column] if column < len(row.cells) else ""
            picked, problem = chosen_options(question, text)
            if problem:
                diagnostics.error(rel, row.line, row.where(column) + problem)
                bad = True
            picks.append(picked or frozenset())
        if bad:
            continue
        respondents += 1
        for i, (question, picked) in enumerate(zip(quiz.questions, picks, strict=True)):
            if picked:
                answered[i] += 1
                right = frozenset(j for j, option in enumerate(question.options) if option.correct)
                correct[i] += picked == right
    if respondents == 0:
        diagnostics.error(rel, header.line, "没有一份答卷")
        return None
    return QuizAnswers(rel, respondents, tuple(answered), tuple(correct))


# -- the folder -------------------------------------------------------------------


def load_results(root: Path, campaign: Campaign, diagnostics: Diagnostics) -> CampaignResults | None:
    """``content/results/<slug>/`` of ``campaign`` read and checked, or None when it has none."""
    folder = root / RESULTS_DIR / campaign.slug
    if not folder.is_dir():
        return None
    rel_folder = f"{RESULTS_DIR}/{campaign.slug}"
    if not inside(root, folder):
        diagnostics.error(rel_folder, 0, "这个文件夹是指向项目以外的链接：只能用项目里的文件")
        return None
    known = {f"{name}.{ext}" for name in FILES for ext in ("csv", "xlsx")} | {NOTE}
    for path in sorted(folder.iterdir()):
        if path.name not in known and not path.name.startswith("."):
            diagnostics.error(
                f"{rel_folder}/{path.name}", 0,
                "不认识的结果文件：可用 attendance.csv、quiz-before.csv/.xlsx、quiz-after.csv/.xlsx、survey.csv、reach.csv",
            )  # fmt: skip
    results = CampaignResults(rel_folder)
    if (folder / NOTE).exists():
        note = read_text(root, folder / NOTE, diagnostics)
        if note is not None and len(note) > MAX_NOTE_CHARS:
            diagnostics.error(
                f"{rel_folder}/{NOTE}", 1, f"说明有 {len(note)} 个字，最多 {MAX_NOTE_CHARS} 个字"
            )
        elif note is not None:
            results.note = note.strip()
            results.sources.append(f"{rel_folder}/{NOTE}")
    index = ActivityIndex(campaign)
    tables = {name: find_table(root, folder, name, diagnostics) for name in FILES}
    for name, table in tables.items():
        if table is None:
            continue
        rel, rows = table
        results.sources.append(rel)
        if not rows:
            diagnostics.error(rel, 1, "文件是空的：第一行应是列名")
            continue
        if name == "attendance":
            for row, activity, expected, attended in dated_rows(
                name, rel, rows, index, ("expected", "attended"), diagnostics
            ):
                results.attendance.append(
                    AttendanceRow(
                        activity.date, activity.title, expected, attended, row.line, activity.channel.label
                    )
                )
        elif name == "reach":
            for row, activity, total, forwarded in dated_rows(
                name, rel, rows, index, ("total", "forwarded"), diagnostics
            ):
                results.reach.append(
                    ReachRow(
                        activity.date, activity.title, total, forwarded, row.line, activity.channel.label
                    )
                )
        elif name == "survey":
            results.scores = read_scores(rel, rows, index, diagnostics)
        elif campaign.quiz is None:
            diagnostics.error(
                rel,
                0,
                f"有前后测答卷，但活动计划 {campaign.source} 没有写 quiz: 测验名（答卷按哪份测验打分）",
            )
        else:
            scored = score_quiz(rel, rows, campaign.quiz, diagnostics)
            if name == "quiz-before":
                results.quiz_before = scored
            else:
                results.quiz_after = scored
    for goal in campaign.goals:
        needs = {
            "attendance": "attendance",
            "count": "attendance",
            "survey": "survey",
            "reach": "reach",
            "quiz": "quiz-after",
        }
        if goal.measure and tables.get(needs[goal.measure]) is None:
            diagnostics.warning(
                campaign.source, goal.line,
                f"目标「{goal.indicator}」用 {goal.measure} 衡量，但 {rel_folder}/ 里还没有 {needs[goal.measure]} 文件：报告里显示“未测量”",
            )  # fmt: skip
    return results


def read_scores(rel: str, rows: list[Row], index: ActivityIndex, diagnostics: Diagnostics) -> list[int]:
    columns = header_map("survey", rel, rows[0], diagnostics)
    if columns is None:
        return []
    scores = []
    for row in rows[1:]:
        text = cell(row, columns, "score")
        if not re.fullmatch(r"[1-5]", text):
            diagnostics.error(
                rel, row.line, f"{row.where(columns['score'])}满意度评分 '{text}' 应是 1 到 5 的整数"
            )
            continue
        title, day_text = cell(row, columns, "activity"), cell(row, columns, "date")
        if title or day_text:
            day = read_date(day_text)
            problem = f"日期 '{day_text}' 应写成 2026-05-08" if day is None else index.find(title, day)[1]
            if problem:
                diagnostics.error(rel, row.line, problem)
                continue
        scores.append(int(text))
    return scores


def stray_result_folders(root: Path, slugs: set[str], diagnostics: Diagnostics) -> None:
    """A results folder whose campaign does not exist (renamed, or a typo) is an error: its numbers would be lost."""
    base = root / RESULTS_DIR
    if not base.is_dir():
        return
    for folder in sorted(base.iterdir()):
        if folder.name.startswith(".") or folder.name in slugs:
            continue
        rel = f"{RESULTS_DIR}/{folder.name}"
        close = difflib.get_close_matches(folder.name, sorted(slugs), n=1, cutoff=0.6)
        hint = (
            f"，是不是 '{close[0]}'？"
            if close
            else "（文件夹名要和 content/campaigns/ 下活动计划的文件名一样）"
        )
        diagnostics.error(rel, 0, f"没有活动计划 '{folder.name}'{hint}")
