"""Progress of a build: a bar per stage on a terminal, plain lines elsewhere.

In CI or when output is piped there are no control characters: a stage prints a
line when it starts and a few lines as it advances.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class StageProgress:
    """Counts units of one stage; silent unless given a stream."""

    def __init__(self, stage: str = "", stream: TextIO | None = None):
        self.stage = stage
        self.stream = stream
        self.total = 0
        self.done = 0
        self._bar: tqdm | None = None
        self._last_tenth = -1

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        if self.stream is None:
            return
        if self.stream.isatty():
            self._bar = tqdm(total=total, desc=self.stage, unit="项", file=self.stream, leave=False)
        else:
            print(f"[{self.stage}] {total} 项", file=self.stream, flush=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.stream is not None and self.total:
            tenth = self.done * 10 // self.total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                print(f"[{self.stage}] {self.done}/{self.total}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def stage_progress(stage: str, enabled: bool) -> StageProgress:
    return StageProgress(stage, sys.stderr if enabled else None)
