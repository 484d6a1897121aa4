"""Rendering independent documents on several cores, with the same output as one.

Workers come from a fork server: cheap to start and never a fork of a parent
that may be running threads. The fork server is one per process and takes its
preload list once, so the list names what every renderer's workers need.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

# Imported once in the fork server, so each worker starts with them loaded.
PRELOAD = [
    "weasyprint",
    "pypdfium2",
    "numpy",
    "PIL.Image",
    "builder.renderers.printing",
    "builder.renderers.video",
]


def parallel_map(function: Callable[[In], Out], items: Sequence[In], jobs: int) -> Iterable[Out]:
    """``map`` over worker processes, results in input order; in-process for one job.

    ``function`` must be a module-level function and ``items`` picklable.
    """
    if jobs <= 1 or len(items) <= 1:
        return map(function, items)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return _pooled_map(function, items, min(jobs, len(items)), context)


def _pooled_map(
    function: Callable[[In], Out],
    items: Sequence[In],
    workers: int,
    context: multiprocessing.context.BaseContext,
) -> Iterator[Out]:
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(function, items)
