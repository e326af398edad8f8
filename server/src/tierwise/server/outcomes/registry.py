"""Decision ids: issued per response on the Route path, remembered (bounded) for outcomes.

An id is a random per-process prefix and a counter, like the request ids (no syscall per
Route). The registry keeps the most recent `max_entries` ids with the tiers their plan may
try; older ids are judged by the store (when there is one), so a fleet sharing PostgreSQL
accepts an outcome at any replica once the issuing replica's writer has stored the decision.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from typing import Final

DEFAULT_MAX_ENTRIES: Final = 100_000


class DecisionRegistry:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries: must be >= 1")
        self.max_entries = max_entries
        self._prefix = "d" + os.urandom(6).hex()
        self._counter = itertools.count()
        self._lock = threading.Lock()
        # id -> tiers the decision may try; True once an outcome was accepted for it.
        self._entries: OrderedDict[str, tuple[tuple[str, ...], bool]] = OrderedDict()

    def issue(self, tiers: tuple[str, ...]) -> str:
        decision_id = f"{self._prefix}-{next(self._counter):x}"
        with self._lock:
            self._entries[decision_id] = (tiers, False)
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return decision_id

    def lookup(self, decision_id: str) -> tuple[tuple[str, ...], bool] | None:
        """(tiers, already reported) for a recent id; None when not remembered here."""
        with self._lock:
            return self._entries.get(decision_id)

    def mark_reported(self, decision_id: str) -> None:
        with self._lock:
            entry = self._entries.get(decision_id)
            if entry is not None:
                self._entries[decision_id] = (entry[0], True)

    def __len__(self) -> int:
        return len(self._entries)
