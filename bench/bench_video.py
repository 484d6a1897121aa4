"""Benchmark the video renderer: python bench/bench_video.py [--landscape] [--music-file] [--preset P] [--repeat N]

Renders one ~41 s, 9-slide lesson video (hook, title card, six key points built in
phrase by phrase, closing card; moving progress and time bars, crossfades, burned-in
captions, sound normalised to -16 LUFS: the synthesised music bed by default, a 12 s
music file looped with --music-file) through the real build
(`build(..., only=["video"])`, cache off) and prints wall seconds, the real-time
factor (video seconds per wall second), the CPU seconds spent (which, unlike wall
time, hardly depend on what else the machine is running) and peak memory. The
issue's target on a 2-core machine: ≥ 4× real time, peak memory < 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from builder.pipeline import build

KEY_POINTS = [
    "不同日测量三次，血压都在140/90 mmHg及以上，才能诊断",
    "高血压常常没有感觉，35岁以上的成年人每年至少量一次血压",
    "每人每天吃盐不超过5克，少吃咸菜、酱料、腊肉和加工肉",
    "降压药要按照医嘱长期吃，血压正常了也不能自己随便停药",
    "家里用上臂式电子血压计，安静坐好5分钟以后再开始测量",
    "血压很高又胸痛、说话不清、一侧手脚无力，要马上打120",
]


def make_project(root: Path, landscape: bool, preset: str | None, music_file: bool) -> None:
    (root / "content" / "lessons").mkdir(parents=True)
    (root / "media").mkdir()
    # 12 s of "music" (two tones), looped to 40 s (with --music-file).
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "sine=frequency=220:duration=12",
            "-f", "lavfi", "-i", "sine=frequency=330:duration=12",
            "-filter_complex", "amix=inputs=2,volume=0.5", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k",
            str(root / "media" / "music.mp3"),
        ],
        check=True,
    )  # fmt: skip
    (root / "site_config.yml").write_text(
        textwrap.dedent(f"""\
            site: {{name: 基准测试课堂, url: "https://health.example.org/", organization: 示例社区卫生服务中心, contact: 咨询电话 000-00000000}}
            brand: {{color: "#1f7a4d"}}
            audiences: [{{id: elderly, label: 老年人}}, {{id: chronic-patients, label: 慢性病患者}}]
            topics: [{{id: chronic-disease, label: 慢性病防治}}]
            channels: [{{id: video, label: 短视频}}]
            video: {{narration: none,{" music: media/music.mp3," if music_file else ""} landscape: {str(landscape).lower()}}}
            """),
        encoding="utf-8",
    )
    points = "\n".join(f"  - {point}" for point in KEY_POINTS)
    (root / "content" / "lessons" / "hypertension-basics.md").write_text(
        f"---\ntitle: 认识高血压：量得准，管得住\nsummary: 血压多高算高血压，在家怎样量才准，日常怎么吃、怎么动。\n"
        f"audiences: [老年人, 慢性病患者]\ntopics: [慢性病防治]\nkey_points:\n{points}\n"
        f"reviewed_by: 示例社区卫生服务中心 全科医师\nreviewed_on: 2026-03-12\n---\n\n## 正文\n\n正文。\n",
        encoding="utf-8",
    )
    if preset:
        style = root / "templates" / "video" / "style.yml"
        style.parent.mkdir(parents=True)
        style.write_text(f"encoder: {{preset: {preset}}}\n", encoding="utf-8")


def probe_seconds(video: Path) -> float:
    output = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(video)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(output)["format"]["duration"])


def cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landscape", action="store_true", help="also render the 1920×1080 variant")
    parser.add_argument("--preset", help="x264 preset instead of the style's (e.g. superfast)")
    parser.add_argument(
        "--music-file", action="store_true", help="a 12 s music file instead of the synthesised bed"
    )
    parser.add_argument("--repeat", type=int, default=1, help="render this many times, report each")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kepu-bench-video-") as folder:
        project = Path(folder) / "project"
        make_project(project, args.landscape, args.preset, args.music_file)
        for run in range(1, args.repeat + 1):
            load_before = os.getloadavg()[0]
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            own_before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.perf_counter()
            build(project, Path(folder) / "public", only=["video"], jobs=1, use_cache=False)
            wall = time.perf_counter() - started
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            own = resource.getrusage(resource.RUSAGE_SELF)
            out = Path(folder) / "public" / "video" / "lessons" / "hypertension-basics"
            seconds = probe_seconds(out / "video.mp4")
            encoded = seconds * (2 if args.landscape else 1)
            ffmpeg_cpu = cpu_seconds(children) - cpu_seconds(children_before)
            python_cpu = cpu_seconds(own) - cpu_seconds(own_before)
            print(
                f"run {run}: {encoded:.1f} s of video ({'portrait + landscape' if args.landscape else 'portrait'}) "
                f"in {wall:.2f} s wall → {encoded / wall:.1f}× real time; "
                f"CPU: ffmpeg {ffmpeg_cpu:.1f} s + python {python_cpu:.1f} s "
                f"({(ffmpeg_cpu + python_cpu) / encoded:.2f} CPU s per video s); peak memory: python {own.ru_maxrss / 1024:.0f} MiB, "
                f"largest child {children.ru_maxrss / 1024:.0f} MiB; load average before {load_before:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
