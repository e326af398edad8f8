"""Wall time of each training step (reported in the manifest as ``training.timings_s``)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("tierwise.classifier.train")


class Clock:
    """Laps since the previous lap; ``timings`` keeps them in order (seconds, 0.1 s)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self._last = self.start
        self.timings: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self._last, 1)
        log.info("train.step %s %.1fs", step, now - self._last)
        self._last = now

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start
