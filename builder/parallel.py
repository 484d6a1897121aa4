"""Rendering independent documents on several cores, with the same output as one.

Workers come from a fork server: cheap to start and never a fork of a parent
that may be running threads. The fork server is one per process and takes its
preload list once, so the list names what every renderer's workers need.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

def preload() -> list[str]:
    """What the fork server imports once, so each worker starts with it loaded: every
    renderer module and what each declares its workers need."""
    from builder.renderers.base import registry  # the registry's modules import this one

    modules: list[str] = []
    for renderer in registry().values():
        modules += [*renderer.preload, renderer.render.__module__]
    return list(dict.fromkeys(modules))


def warm_up(jobs: int) -> None:
    """Start the fork server now: its imports then overlap with loading the project,
    instead of holding up the first stage that asks for a worker."""
    if jobs > 1:
        _context()
        multiprocessing.forkserver.ensure_running()


def parallel_map(function: Callable[[In], Out], items: Sequence[In], jobs: int) -> Iterable[Out]:
    """``map`` over worker processes, results in input order; in-process for one job.

    ``function`` must be a module-level function and ``items`` picklable.
    """
    if jobs <= 1 or len(items) <= 1:
        return map(function, items)
    return _pooled_map(function, items, min(jobs, len(items)), _context())


Submit = Callable[..., "Future[Any]"]


@contextmanager
def background(jobs: int) -> Iterator[Submit]:
    """``submit(function, *args)`` runs calls, in order, in one worker process while the caller goes on.

    With one job the call runs at once, in this process, and its future is already
    done: callers wait on ``future.result()`` either way, so both give the same output.
    Leaving the ``with`` block waits for calls still running.
    """
    if jobs <= 1:
        yield _run_now
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        yield pool.submit


def _run_now(function: Callable[..., Out], *args: Any) -> Future[Out]:
    future: Future[Out] = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # re-raised by future.result(), as a worker's error would be
        future.set_exception(error)
    return future


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload())
    return context


def _pooled_map(
    function: Callable[[In], Out],
    items: Sequence[In],
    workers: int,
    context: multiprocessing.context.BaseContext,
) -> Iterator[Out]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(function, items)
