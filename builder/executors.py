"""Where render jobs run: this machine's process pool, or a Dask cluster.

Every unit-based renderer hands its jobs to :meth:`RenderContext.render_units`, which
maps them through one :class:`Executor`. A job is a picklable value holding
everything it is rendered from, and its result is the artifact bytes, so the same
job gives the same bytes wherever it runs (``tests/test_executors.py`` compares a
Dask build's manifest with a local one).

``local`` (the default) is :func:`builder.parallel.parallel_map`: a fork-server pool,
nothing to start. ``dask`` submits the jobs to a Dask distributed scheduler — an
existing cluster at ``--dask-scheduler ADDRESS``, or a ``LocalCluster`` of this
machine's cores — and reads the results in job order. Kepu writes no scheduler of
its own: retries after a lost worker, placement and the dashboard are Dask's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from builder.parallel import parallel_map

In = TypeVar("In")
Out = TypeVar("Out")

EXECUTORS = ("local", "dask")


class ExecutorUnavailableError(RuntimeError):
    """The chosen executor cannot start here (Dask not installed, scheduler unreachable)."""


class Executor(Protocol):
    name: str

    def map(self, function: Callable[[In], Out], items: Sequence[In]) -> Iterable[Out]:
        """``function`` over ``items``, results in input order."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the build report says about where the jobs ran."""
        ...


@dataclass
class LocalExecutor:
    jobs: int = 1
    name: str = "local"

    def map(self, function: Callable[[In], Out], items: Sequence[In]) -> Iterable[Out]:
        return parallel_map(function, items, self.jobs)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "workers": self.jobs}


@dataclass
class DaskExecutor:
    client: Any  # distributed.Client
    name: str = "dask"
    submitted: int = field(default=0)

    def map(self, function: Callable[[In], Out], items: Sequence[In]) -> Iterator[Out]:
        if not items:
            return iter(())
        # pure=False: two units with equal jobs are still two results the caller waits for,
        # and Kepu's own cache, not Dask's, decides what is reused.
        futures = self.client.map(function, list(items), pure=False)
        self.submitted += len(futures)
        return self._in_order(futures)

    @staticmethod
    def _in_order(futures: list[Any]) -> Iterator[Any]:
        try:
            for future in futures:
                yield future.result()
        finally:
            # A failed job (or a caller that stops reading) ends the map: drop what is still queued.
            for future in futures:
                if not future.done():
                    future.cancel()

    def describe(self) -> dict[str, Any]:
        workers = self.client.scheduler_info().get("workers", {})
        return {
            "name": self.name,
            "workers": len(workers),
            "scheduler": self.client.scheduler.address,
            "dashboard": self.client.dashboard_link,
            "jobs": self.submitted,
        }


@contextlib.contextmanager
def open_executor(
    name: str, jobs: int, scheduler: str | None = None, announce: Callable[[str], None] | None = None
) -> Iterator[Executor]:
    """The executor ``name`` for one build, shut down (with a cluster it started) afterwards."""
    if name == "local":
        yield LocalExecutor(jobs)
        return
    if name != "dask":
        raise ExecutorUnavailableError(f"未知的执行方式 {name!r}（可选：{'、'.join(EXECUTORS)}）")
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ExecutorUnavailableError(
            "--executor dask 需要 Dask：pip install 'kepu[cluster]'（dask[distributed]）"
        ) from error
    with contextlib.ExitStack() as stack:
        try:
            if scheduler:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
            else:
                # Processes, one thread each: renderers (WeasyPrint, the video painter) hold the GIL.
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=max(1, jobs),
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address="127.0.0.1:0",
                        silence_logs=40,  # logging.ERROR: the build's own output stays readable
                    )
                )
                client = stack.enter_context(Client(cluster))
        except (OSError, TimeoutError) as error:
            where = scheduler or "本机的 LocalCluster"
            raise ExecutorUnavailableError(f"连不上 Dask 调度器 {where}：{error}") from error
        executor = DaskExecutor(client)
        if announce is not None:
            announce(f"Dask 控制台：{client.dashboard_link}")
        yield executor
