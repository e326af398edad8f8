"""A background thread that writes decisions and outcomes to the store in batches.

Route and ReportOutcomes only put records on a bounded queue (never blocking: when it is
full the record is dropped and counted); the store's latency never reaches an RPC.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Final, Protocol

import structlog

from tierwise.server.outcomes.records import DecisionRecord, OutcomeRecord

_log = structlog.get_logger("tierwise.server")

DEFAULT_MAX_QUEUE: Final = 10_000
DEFAULT_BATCH_SIZE: Final = 500
# Records wait at most this long before a write (shorter than the SDK reporter's flush, so
# a decision is in a shared store before its outcome usually arrives at another replica).
DEFAULT_FLUSH_INTERVAL_S: Final = 0.2


class Store(Protocol):
    def write(self, decisions: list[DecisionRecord], outcomes: list[OutcomeRecord]) -> None: ...


Record = DecisionRecord | OutcomeRecord


class BackgroundWriter:
    def __init__(
        self,
        store: Store,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        on_write: Callable[[str, int], None] | None = None,
    ) -> None:
        self._store = store
        self._queue: queue.Queue[Record | None] = queue.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._on_write = on_write or (lambda _result, _count: None)
        self._idle = threading.Condition()
        self._pending = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="tierwise-outcomes", daemon=True)
        self._thread.start()

    def offer(self, record: Record) -> bool:
        """Queue a record; False (and counted) when the queue is full."""
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._idle:
                self._pending -= 1
                self.dropped += 1
            return False
        return True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything queued so far is written (or failed); False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        self.flush(timeout_s)
        self._queue.put(None)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch: list[Record] = [first]
            deadline = time.monotonic() + self._flush_interval_s
            stop = False
            while len(batch) < self._batch_size:
                remaining = deadline - time.monotonic()
                try:
                    item = (
                        self._queue.get(timeout=max(0.0, remaining))
                        if remaining > 0
                        else (self._queue.get_nowait())
                    )
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[Record]) -> None:
        decisions = [r for r in batch if isinstance(r, DecisionRecord)]
        outcomes = [r for r in batch if isinstance(r, OutcomeRecord)]
        try:
            self._store.write(decisions, outcomes)
            self._on_write("ok", len(batch))
        except Exception as error:  # a store outage must not kill the writer
            self._on_write("error", len(batch))
            _log.warning("outcomes.write_failed", records=len(batch), error=str(error))
        finally:
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()
