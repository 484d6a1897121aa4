"""The ``kepu`` command: build, check, new, serve.

The only module that prints. Content mistakes are shown as ``path:line: message``
and exit 1 — never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jinja2

from builder import __version__
from builder.diagnostics import ContentError, Diagnostics
from builder.executors import EXECUTORS, ExecutorUnavailableError
from builder.pipeline import CACHE_FOLDER, BuildResult, UnknownRendererError, build, check
from builder.remote_cache import RemoteCacheError
from builder.renderers import RenderError, registry
from builder.writer import (
    DuplicateArtifactError,
    UnsafeArtifactPathError,
    UnsafeOutputError,
    check_output_folder,
)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kepu", description="科普：一份 Markdown 内容，生成网站、印刷品、短视频和公众号文章。"
    )
    parser.add_argument("--version", action="version", version=f"kepu {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--project", type=Path, default=Path.cwd(), metavar="DIR",
                         help="内容项目目录（默认：当前目录）")  # fmt: skip
        return sub

    sub = command("build", "校验内容并生成全部输出")
    sub.add_argument("--out", type=Path, metavar="DIR", help="输出目录（默认：项目下的 public/）")
    outputs = "，".join(f"{name}（{renderer.label}）" for name, renderer in registry().items())
    sub.add_argument("--only", metavar="LIST", help=f"只生成这些输出，逗号分隔：{outputs}")
    sub.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N", help="并行任务数")
    sub.add_argument("--strict", action="store_true", help="有警告也算失败")
    sub.add_argument("--no-cache", action="store_true", help="不用缓存，全部重新生成")
    sub.add_argument("--cache-dir", type=Path, metavar="DIR", help="缓存目录（默认：项目下的 .kepu-cache/）")
    sub.add_argument("--cache-url", metavar="URL",
                     help="共享缓存（fsspec 地址：file:///共享盘/kepu、s3://桶/kepu），多台机器、多个检出共用")  # fmt: skip
    sub.add_argument("--executor", choices=EXECUTORS, default="local",
                     help="在哪里渲染：local 本机进程（默认）；dask 交给 Dask 集群")  # fmt: skip
    sub.add_argument("--dask-scheduler", metavar="ADDRESS",
                     help="Dask 调度器地址，如 tcp://10.0.0.5:8786（不写则在本机开一个 LocalCluster）")  # fmt: skip
    sub.add_argument("--report-json", type=Path, metavar="FILE",
                     help="把构建结果（新渲染、复用、各阶段用时、执行方式、缓存）写成 JSON，供脚本和 CI 读取")  # fmt: skip
    sub.add_argument("--quiet", action="store_true", help="不显示进度")
    sub.set_defaults(func=run_build)

    sub = command("check", "只校验内容，不写任何文件")
    sub.add_argument("--format", choices=("text", "json", "sarif", "gitlab"), default="text",
                     help="text 按文件分组；sarif 供 GitHub、gitlab 供 GitLab 在合并请求里显示")  # fmt: skip
    sub.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N", help="并行任务数")
    sub.add_argument("--strict", action="store_true", help="有警告也算失败")
    sub.add_argument("--no-cache", action="store_true", help="不读构建缓存，每份单页印刷品都重新排版")
    sub.add_argument("--cache-dir", type=Path, metavar="DIR", help="构建缓存目录（默认：项目下的 .kepu-cache/）")
    sub.set_defaults(func=run_check)

    sub = command("new", "新建课程、测验或宣传活动文件")
    sub.add_argument("kind", choices=("lesson", "quiz", "campaign"))
    sub.add_argument("name", help="文件名（小写英文字母、数字和连字符），如 hypertension-basics")
    sub.set_defaults(func=run_new)

    sub = command("exam", "按职业标准理论知识权重表，从题库组一套练习卷")
    sub.add_argument("--level", required=True, choices=("四级", "三级", "二级"))
    sub.add_argument("--count", type=int, default=20, metavar="N", help="题数（默认 20）")
    sub.add_argument("--seed", type=int, default=1, metavar="S", help="随机种子：同一种子组出同一套卷")
    sub.add_argument("--out", type=Path, required=True, metavar="DIR")
    sub.set_defaults(func=run_exam)

    sub = command("report", "生成一个宣传活动的总结评估报告（目标与实测、参与率、前后测、满意度）")
    sub.add_argument("--campaign", required=True, metavar="SLUG", help="活动计划的文件名，不带 .md")
    sub.add_argument("--out", type=Path, metavar="DIR", help="输出目录（默认：项目下的 public/）")
    sub.set_defaults(func=run_report)

    sub = command("publish", "把课程推送到公众号草稿箱（只建草稿，不会发表）")
    sub.add_argument("target", choices=("wechat",))
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument("--lesson", metavar="SLUG", help="推送一节课")
    which.add_argument("--campaign", metavar="SLUG", help="推送一个宣传活动里所有公众号活动的课程")
    sub.add_argument("--dry-run", action="store_true", help="只列出将要发送的请求，不联网")
    sub.add_argument("--newspic", action="store_true", help="推送图片消息（小绿书：卡片加纯文字）而非图文")
    sub.set_defaults(func=run_publish)

    sub = command("serve", "本地预览网站，内容改动后自动重建并刷新浏览器")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.set_defaults(func=run_serve)
    return parser


def print_diagnostics(diagnostics: Diagnostics) -> None:
    for diagnostic in diagnostics.sorted():
        print(diagnostic, file=sys.stderr)


# Why a write or read failed, by errno: the user's next step differs (free space, permissions …).
OS_REASONS = {
    errno.ENOSPC: "磁盘空间不足，无法写入",
    errno.EDQUOT: "磁盘配额已用完，无法写入",
    errno.EFBIG: "文件太大，文件系统无法写入",
    errno.EROFS: "文件系统是只读的，无法写入",
    errno.EACCES: "没有权限写入",
    errno.EPERM: "没有权限（或文件被锁定为不可改），无法写入",
    errno.ENOENT: "找不到",
    errno.EIO: "读写磁盘出错（I/O 错误）：",
}


def describe_os_error(error: OSError, fallback: Path | None = None) -> str:
    """One clause naming what failed and where, e.g. ``磁盘空间不足，无法写入 /srv/public/x.pdf``."""
    where = error.filename if error.filename is not None else fallback
    reason = OS_REASONS.get(error.errno or 0)
    if reason is None:
        reason = f"{error.strerror or error}："
    if where is None:
        return reason.rstrip("：")
    return f"{reason}{where}" if reason.endswith("：") else f"{reason} {where}"


def environment_problem(command: str, what: str, keeps_output: bool = True) -> int:
    """Print an environment problem as one sentence; exit code 2."""
    tail = "，原有输出没有改动。" if keeps_output else "。"
    print(f"{command}失败：{what.rstrip('。；')}{tail}", file=sys.stderr)
    return 2


def run_build(args: argparse.Namespace) -> int:
    only = [part.strip() for part in args.only.split(",") if part.strip()] if args.only else None
    started = time.perf_counter()
    out_dir = (args.out or args.project / "public").resolve()
    try:
        result = build(
            args.project,
            args.out,
            only=only,
            jobs=max(1, args.jobs),
            strict=args.strict,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            progress=not args.quiet,
            executor=args.executor,
            dask_scheduler=args.dask_scheduler,
            cache_url=args.cache_url,
            announce=None if args.quiet else lambda line: print(line, file=sys.stderr),
        )
    except ContentError as error:
        print_diagnostics(error.diagnostics)
        errors, warnings = len(error.diagnostics.errors), len(error.diagnostics.warnings)
        reason = f"{errors} 个错误" if errors else f"{warnings} 个警告（--strict）"
        print(f"构建失败：{reason}。原有输出没有改动。", file=sys.stderr)
        return 1
    except (UnknownRendererError, jinja2.TemplateError) as error:
        print(f"构建失败：{describe_template_error(error)}", file=sys.stderr)
        return 1
    except RenderError as error:
        problem = _environment_cause(error.__cause__)
        if problem is not None:  # not the content: ffmpeg, a font, espeak-ng, the disk …
            return environment_problem("构建", problem)
        print(f"{error}\n构建失败。原有输出没有改动。", file=sys.stderr)
        return 1
    except UnsafeOutputError as error:
        return environment_problem("构建", str(error), keeps_output=False)
    except (ExecutorUnavailableError, RemoteCacheError) as error:
        return environment_problem("构建", str(error))
    except (DuplicateArtifactError, UnsafeArtifactPathError) as error:
        return environment_problem("构建", f"{error}（若改动过缓存目录，请删除它后重试）")
    except ModuleNotFoundError as error:
        return environment_problem("构建", f"缺少 Python 包 {error.name}（运行 make 或 pip install -e . 安装）")
    except OSError as error:
        return environment_problem("构建", describe_os_error(error, out_dir))
    print_diagnostics(result.diagnostics)
    total = sum(result.artifacts.values())
    kinds = "，".join(f"{kind} {count}" for kind, count in sorted(result.artifacts.items()))
    stages = "，".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.seconds.items())
    print(f"已生成 {total} 个文件到 {result.out_dir}（{kinds}）")
    print(f"新渲染 {result.rendered} 个，从缓存复用 {result.reused} 个")
    print(f"用时 {time.perf_counter() - started:.1f} 秒（{stages}）")
    if args.report_json is not None:
        report = build_report(result)
        try:
            args.report_json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            return environment_problem("写构建报告", describe_os_error(error, args.report_json))
    return 0


def build_report(result: BuildResult) -> dict[str, object]:
    """What ``--report-json`` writes: the figures scripts and CI act on."""
    remote = result.cache.remote
    return {
        "rendered": result.rendered,
        "reused": result.reused,
        "artifacts": sum(result.artifacts.values()),
        "seconds": {stage: round(seconds, 3) for stage, seconds in result.seconds.items()},
        "executor": result.executor,
        "cache": {
            "local": result.cache.folder is not None,
            "remote": remote.describe() if remote is not None else None,
            "rendered_by_output": dict(sorted(result.cache.rendered.items())),
            "reused_by_output": dict(sorted(result.cache.reused.items())),
        },
    }


def _environment_cause(cause: BaseException | None) -> str | None:
    """What the environment lacks, if that is why a unit failed to render; None for content causes."""
    from builder.fonts import FontMissing
    from builder.renderers.video import VideoToolMissing

    if isinstance(cause, VideoToolMissing | FontMissing):
        return str(cause)
    if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError):
        return describe_os_error(cause)
    return None


def describe_template_error(error: Exception) -> str:
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{error.filename or error.name}:{error.lineno}: 模板语法错误：{error.message}"
    return str(error)


def run_check(args: argparse.Namespace) -> int:
    try:
        diagnostics = check(
            args.project, jobs=max(1, args.jobs), cache_dir=args.cache_dir, use_cache=not args.no_cache
        )
    except ModuleNotFoundError as error:
        return environment_problem("检查", f"缺少 Python 包 {error.name}（运行 make 或 pip install -e . 安装）", False)
    except OSError as error:
        return environment_problem("检查", describe_os_error(error, args.project.resolve()), False)
    if args.format == "json":
        print(diagnostics.to_json())
    elif args.format in ("sarif", "gitlab"):
        from builder.sarif import to_gitlab, to_sarif

        print(to_sarif(diagnostics) if args.format == "sarif" else to_gitlab(diagnostics))
    else:
        from builder.quality import grouped_text

        for line in grouped_text(diagnostics):
            print(line, file=sys.stderr)
        errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
        print(f"检查完成：{errors} 个错误，{warnings} 个警告", file=sys.stderr)
    failed = diagnostics.errors or (args.strict and diagnostics.warnings)
    return 1 if failed else 0


def run_new(args: argparse.Namespace) -> int:
    from builder.scaffold import ScaffoldError, create

    try:
        path = create(args.project.resolve(), args.kind, args.name)
    except ScaffoldError as error:
        print(f"kepu new: {error}", file=sys.stderr)
        return 1
    print(f"已新建 {path}，按注释填写后运行 kepu check 检查。")
    return 0


# What ``kepu exam`` writes (builder/exam.py); a folder holding only these is a previous exam.
EXAM_FILES = frozenset({"exam.json", "exam.html", "exam.pdf", "answers.pdf", "skills.pdf"})


def run_report(args: argparse.Namespace) -> int:
    from builder.report_command import ReportProblem, write_report

    diagnostics = Diagnostics()
    try:
        written = write_report(args.project.resolve(), args.campaign, args.out, diagnostics)
    except ReportProblem as problem:
        print_diagnostics(diagnostics)
        print(f"kepu report：{problem}", file=sys.stderr)
        return 1
    except UnsafeOutputError as error:
        return environment_problem("生成报告", str(error), keeps_output=False)
    except OSError as error:
        return environment_problem("生成报告", describe_os_error(error, args.out), keeps_output=False)
    print_diagnostics(diagnostics)
    for path in written:
        print(path)
    return 0


def run_exam(args: argparse.Namespace) -> int:
    from builder.exam import assemble, describe, write_exam
    from builder.project import load_project

    out_dir = args.out.resolve()
    try:
        # write_exam writes into the folder in place: refuse sources, the cache and foreign folders first.
        check_output_folder(
            out_dir, args.project, args.project.resolve() / CACHE_FOLDER, own_files=EXAM_FILES, what="试卷目录"
        )
    except UnsafeOutputError as error:
        return environment_problem("组卷", str(error), keeps_output=False)
    diagnostics = Diagnostics()
    try:
        project = load_project(args.project.resolve(), diagnostics)
    except OSError as error:
        return environment_problem("组卷", describe_os_error(error, args.project.resolve()), keeps_output=False)
    if project is None:
        print_diagnostics(diagnostics)
        return 1
    if args.count < 1:
        print("kepu exam: --count 至少为 1", file=sys.stderr)
        return 2
    exam = assemble(project, args.level, args.count, args.seed)
    for line in describe(exam):
        print(line)
    for area, missing in exam.shortfall.items():
        print(f"题库不足：{area} 缺 {missing} 题（给更多题目加上该领域的能力编码）", file=sys.stderr)
    try:
        written = write_exam(project, exam, out_dir)
    except ModuleNotFoundError as error:
        return environment_problem("组卷", f"缺少 Python 包 {error.name}（运行 make 或 pip install -e . 安装）", False)
    except OSError as error:
        return environment_problem("组卷", describe_os_error(error, out_dir), keeps_output=False)
    for path in written:
        print(f"已写入 {path}")
    return 0


def run_publish(args: argparse.Namespace) -> int:
    from builder.wechat_publish import PublishError, publish_wechat

    try:
        publish_wechat(
            args.project.resolve(),
            lesson=args.lesson,
            campaign=args.campaign,
            dry_run=args.dry_run,
            newspic=args.newspic,
            log=print,
        )
    except ContentError as error:
        print_diagnostics(error.diagnostics)
        return 1
    except PublishError as error:
        print(f"kepu publish: {error}", file=sys.stderr)
        return 1
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from mkdocs.livereload import LiveReloadServer

    project = args.project.resolve()
    out_dir = Path(tempfile.mkdtemp(prefix="kepu-serve-")) / "public"

    def rebuild() -> None:
        try:
            result = build(project, out_dir, only=["site"])
            print_diagnostics(result.diagnostics)
            print("已重建网站", file=sys.stderr)
        except ContentError as error:
            print_diagnostics(error.diagnostics)
            print("内容有错误，预览保持上一次成功的版本。", file=sys.stderr)
        except jinja2.TemplateError as error:
            print(describe_template_error(error), file=sys.stderr)

    rebuild()
    if not (out_dir / "site").is_dir():
        return 1
    server = LiveReloadServer(builder=rebuild, host=args.host, port=args.port, root=str(out_dir / "site"))
    for name in ("content", "templates", "media", "site_config.yml"):
        if (project / name).exists():
            server.watch(str(project / name))
    print(f"预览地址：http://{args.host}:{args.port}/（按 Ctrl+C 停止）", file=sys.stderr)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
