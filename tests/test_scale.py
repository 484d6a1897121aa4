"""Past one machine: the Dask executor, the shared cache (file://, memory://, S3 on moto) and
the build report. Servers start here on 127.0.0.1 and stop after the test."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.cli import main
from builder.pipeline import build
from builder.renderers import RenderError
from tests.conftest import FIXTURE, TODAY

# A renderer whose worker can be told to die: while a folder "kills" stands beside the
# module, the first attempt at each unit kills its process, as a machine lost mid-build
# would. Files, not environment variables: a pool's server process keeps the environment
# it started with. "words.txt" beside it stands for a template every unit is made from.
TOY = '''
import os
from pathlib import Path

from builder.cache import fingerprint
from builder.renderers.base import Renderer, Unit
from builder.writer import Artifact


HERE = Path(__file__).parent


def words():
    template = HERE / "words.txt"
    return template.read_text(encoding="utf-8") if template.exists() else "卡片"


def card(job):
    slug, title = job
    if (HERE / "kills").is_dir():
        marker = HERE / "kills" / slug
        if not marker.exists():
            marker.write_text("died once")
            os._exit(9)
    return f"{title}（{words()}）\\n"


def render(project, ctx):
    units = [
        Unit(fingerprint("toy-scale", lesson.slug, lesson.title, words()),
             lesson, lesson.source, f"toy/{lesson.slug}.txt")
        for lesson in project.lessons
    ]

    def finish(unit, text, diagnostics):
        return [Artifact("toy-card", unit.what, unit.source, data=text.encode("utf-8"))]

    yield from ctx.render_units(units, lambda lesson: (lesson.slug, lesson.title), card, finish)


RENDERER = Renderer(name="toy", label="玩具卡片", kinds=("toy-card",), render=render)
'''


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy renderer registered; yields the folder its module (and its kills/words.txt) is in."""
    folder = tmp_path / "toy_module"
    folder.mkdir()
    (folder / "kepu_toy_scale.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    # Dask's worker processes import the module by name too.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))
    import builder.renderers.base as base

    monkeypatch.setattr(base, "RENDERER_MODULES", [*base.RENDERER_MODULES, "kepu_toy_scale"])
    monkeypatch.delitem(sys.modules, "kepu_toy_scale", raising=False)  # each test's own copy
    yield folder


def checkout(tmp_path: Path, where: str) -> Path:
    """A copy of the fixture project at its own path: keys must not depend on it."""
    dest = tmp_path / where / "project"
    shutil.copytree(FIXTURE, dest)
    return dest


def published(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# -- the shared cache ---------------------------------------------------------------------


def test_two_checkouts_share_a_file_cache_and_the_second_renders_nothing(tmp_path: Path, toy):
    url = (tmp_path / "shared cache").as_uri()
    first = build(checkout(tmp_path, "laptop"), only=["toy"], today=TODAY, cache_url=url)
    second_project = checkout(tmp_path, "ci/runner-2/deeper")
    second = build(second_project, only=["toy"], today=TODAY, cache_url=url)
    assert first.rendered == 3 and second.rendered == 0 and second.reused == 3
    assert published(first.out_dir) == published(second.out_dir)
    # The hit was copied into the second checkout's own cache: a third build needs no remote.
    third = build(second_project, only=["toy"], today=TODAY)
    assert third.rendered == 0
    stored = sorted(p.relative_to(tmp_path / "shared cache").as_posix() for p in (tmp_path / "shared cache").rglob("*"))
    assert any(name.startswith("ac/toy/") for name in stored) and any(name.startswith("cas/") for name in stored)
    assert not any(".tmp-" in name for name in stored)


def test_a_tampered_blob_or_record_in_the_shared_cache_is_rendered_again_not_published(tmp_path: Path, toy):
    shared = tmp_path / "shared"
    url = shared.as_uri()
    build(checkout(tmp_path, "a"), only=["toy"], today=TODAY, cache_url=url)
    records = sorted(p for p in (shared / "ac").rglob("*.json"))
    assert len(records) == 3
    sha = json.loads(records[0].read_text(encoding="utf-8"))["artifacts"][0]["sha256"]
    (shared / "cas" / sha[:2] / sha).write_bytes(b"<script>alert(1)</script>")  # same name, other bytes
    record = json.loads(records[1].read_text(encoding="utf-8"))
    record["artifacts"][0]["path"] = "../../escaped.txt"  # a path out of the output folder
    records[1].write_text(json.dumps(record), encoding="utf-8")
    records[2].write_text("{not json", encoding="utf-8")

    result = build(checkout(tmp_path, "b"), only=["toy"], today=TODAY, cache_url=url)
    assert result.rendered == 3 and result.reused == 0
    texts = [p.read_text(encoding="utf-8") for p in sorted((result.out_dir / "toy").glob("*.txt"))]
    assert all("script" not in text and text.endswith("（卡片）\n") for text in texts)
    assert not (tmp_path / "b" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_the_memory_cache_is_keyed_on_inputs_not_on_the_checkout(tmp_path: Path, toy, monkeypatch):
    url = f"memory://kepu-{uuid.uuid4().hex}"
    build(checkout(tmp_path, "one"), only=["toy"], today=TODAY, cache_url=url)
    assert build(checkout(tmp_path, "two"), only=["toy"], today=TODAY, cache_url=url).rendered == 0
    (toy / "words.txt").write_text("新模板", encoding="utf-8")  # an input of every unit changed
    changed = build(checkout(tmp_path, "three"), only=["toy"], today=TODAY, cache_url=url)
    assert changed.rendered == 3
    assert "（新模板）" in (changed.out_dir / "toy" / "flu-vaccine.txt").read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_an_s3_bucket_on_motos_server_is_a_shared_cache(tmp_path: Path, toy, monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    import fsspec

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._port}"
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint, "key": "testing", "secret": "testing"})
        fs = fsspec.filesystem("s3", skip_instance_cache=True)
        fs.mkdir("kepu-cache")
        url = "s3://kepu-cache/district"
        first = build(checkout(tmp_path, "a"), only=["toy"], today=TODAY, cache_url=url)
        second = build(checkout(tmp_path, "b"), only=["toy"], today=TODAY, cache_url=url)
        assert (first.rendered, second.rendered, second.reused) == (3, 0, 3)
        assert first.cache.remote is not None and first.cache.remote.failures == 0
        assert published(first.out_dir) == published(second.out_dir)
        assert any(key.startswith("kepu-cache/district/cas/") for key in fs.find("kepu-cache"))
    finally:
        server.stop()


# -- executors ------------------------------------------------------------------------------


@pytest.mark.slow
def test_dask_on_a_local_cluster_gives_the_bytes_the_local_pool_gives(tmp_path: Path):
    pytest.importorskip("distributed")
    lines: list[str] = []
    # Print's units and posts' units (a job that carries its lesson, not the project).
    local = build(checkout(tmp_path, "local"), only=["print", "posts"], today=TODAY, jobs=2, use_cache=False)
    dask = build(checkout(tmp_path, "dask"), only=["print", "posts"], today=TODAY, jobs=2, use_cache=False,
                 executor="dask", announce=lines.append)  # fmt: skip
    assert published(local.out_dir) == published(dask.out_dir)
    assert dask.executor["name"] == "dask" and dask.executor["workers"] == 2 and dask.executor["jobs"] >= 3
    assert lines and lines[0].startswith("Dask 控制台：http://127.0.0.1:")


def test_a_killed_worker_fails_the_local_build_cleanly_and_keeps_the_old_output(
    tmp_path: Path, toy, monkeypatch
):
    project = checkout(tmp_path, "p")
    build(project, only=["toy"], today=TODAY, use_cache=False)
    before = published(project / "public")
    (toy / "kills").mkdir()
    (toy / "words.txt").write_text("第二版", encoding="utf-8")
    with pytest.raises(RenderError):
        build(project, only=["toy"], today=TODAY, jobs=2, use_cache=False)
    assert published(project / "public") == before  # nothing partial was published
    assert not list(project.parent.glob("public.*")) and not list(project.glob(".kepu-staging*"))


@pytest.mark.slow
def test_dask_retries_a_job_whose_worker_died_and_the_build_completes(tmp_path: Path, toy, monkeypatch):
    pytest.importorskip("distributed")
    kills = toy / "kills"
    kills.mkdir()
    result = build(checkout(tmp_path, "p"), only=["toy"], today=TODAY, jobs=2, use_cache=False, executor="dask")
    # Every unit's first worker died; Dask ran it again elsewhere and the build is whole.
    assert sorted(p.name for p in kills.iterdir()) == ["dust-pneumoconiosis", "flu-vaccine", "hypertension-basics"]
    assert result.rendered == 3
    assert (result.out_dir / "toy" / "flu-vaccine.txt").read_text(encoding="utf-8") == "流感与疫苗接种（卡片）\n"


# -- the command line -------------------------------------------------------------------------


def test_report_json_gives_scripts_the_figures(tmp_path: Path, toy, capsys):
    project = checkout(tmp_path, "p")
    report = tmp_path / "report.json"
    url = (tmp_path / "remote").as_uri()
    args = ["build", "--project", str(project), "--only", "toy", "--quiet", "--cache-url", url]
    assert main([*args, "--report-json", str(report)]) == 0
    first = json.loads(report.read_text(encoding="utf-8"))
    assert first["rendered"] == 3 and first["reused"] == 0 and first["executor"]["name"] == "local"
    assert first["cache"]["remote"] == {"url": url, "failures": 0} and "toy" in first["seconds"]
    shutil.rmtree(project / ".kepu-cache")
    assert main([*args, "--report-json", str(report)]) == 0
    assert json.loads(report.read_text(encoding="utf-8"))["rendered"] == 0


def test_an_unreachable_scheduler_or_an_unknown_cache_url_is_one_sentence_and_exit_2(tmp_path: Path, capsys):
    pytest.importorskip("distributed")
    project = checkout(tmp_path, "p")
    base = ["build", "--project", str(project), "--only", "site", "--quiet"]
    assert main([*base, "--executor", "dask", "--dask-scheduler", f"tcp://127.0.0.1:{_free_port()}"]) == 2
    err = capsys.readouterr().err
    assert "Dask 调度器" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main([*base, "--cache-url", "nosuchprotocol://bucket/kepu"]) == 2
    err = capsys.readouterr().err
    assert "--cache-url" in err and "Traceback" not in err
    assert not (project / "public").exists()
