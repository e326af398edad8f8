"""Outcome reports sent in the background: batched, fire-and-forget, bounded, never raising.

A cascade hands its outcome to `offer()` and returns at once; a daemon thread sends batches
through its own blocking channel (so the asyncio client can use it too). When the service
is down or slow, batches are dropped and counted: the caller's cascade never waits for or
fails on a report.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Final

import grpc

from tierwise.sdk._channel import call_metadata, channel_credentials
from tierwise.sdk.settings import ClientSettings
from tierwise.v1 import outcomes_pb2, outcomes_pb2_grpc

_log = logging.getLogger("tierwise.sdk")

DEFAULT_MAX_QUEUE: Final = 10_000
DEFAULT_BATCH_SIZE: Final = 100
# Longer than the server's outcome writer interval (0.2 s), so with a shared store the
# decision row is usually written before its outcome reaches another replica.
DEFAULT_FLUSH_INTERVAL_S: Final = 0.5
DEFAULT_SEND_TIMEOUT_S: Final = 2.0

Sender = Callable[[outcomes_pb2.ReportOutcomesRequest, float], outcomes_pb2.ReportOutcomesResponse]


class OutcomeReporter:
    def __init__(
        self,
        send: Sender,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        batch_size: int = DEFAULT_BATCH_SIZE,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        send_timeout_s: float = DEFAULT_SEND_TIMEOUT_S,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._send = send
        self._queue: queue.Queue[outcomes_pb2.Outcome | None] = queue.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._send_timeout_s = send_timeout_s
        self._on_close = on_close
        self._idle = threading.Condition()
        self._pending = 0
        self._closed = False
        # Counters a caller (or a test) can read: outcomes sent and accepted, rejected by the
        # server, dropped (queue full or send failed).
        self.sent = 0
        self.rejected = 0
        self.dropped = 0
        self._thread = threading.Thread(
            target=self._run, name="tierwise-outcome-reporter", daemon=True
        )
        self._thread.start()

    @classmethod
    def for_settings(cls, settings: ClientSettings) -> OutcomeReporter:
        """A reporter with its own blocking channel to the client's target."""
        credentials = channel_credentials(settings)
        options = settings.channel_options()
        channel = (
            grpc.insecure_channel(settings.target, options=options)
            if credentials is None
            else grpc.secure_channel(settings.target, credentials, options=options)
        )
        stub = outcomes_pb2_grpc.OutcomeServiceStub(channel)
        metadata = call_metadata(settings)

        def send(
            request: outcomes_pb2.ReportOutcomesRequest, timeout_s: float
        ) -> outcomes_pb2.ReportOutcomesResponse:
            response: outcomes_pb2.ReportOutcomesResponse = stub.ReportOutcomes(
                request, timeout=timeout_s, metadata=metadata
            )
            return response

        return cls(send, on_close=channel.close)

    def offer(self, outcome: outcomes_pb2.Outcome) -> bool:
        """Queue one outcome; False (counted as dropped) when the queue is full or closed."""
        if self._closed:
            self.dropped += 1
            return False
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(outcome)
        except queue.Full:
            with self._idle:
                self._pending -= 1
            self.dropped += 1
            return False
        return True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued outcome was sent or dropped; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (for up to timeout_s), then stop the thread."""
        if self._closed:
            return
        self.flush(timeout_s)
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout_s)
        if self._on_close is not None:
            self._on_close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self._flush_interval_s
            stop = False
            while len(batch) < self._batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._deliver(batch)
            if stop:
                return

    def _deliver(self, batch: list[outcomes_pb2.Outcome]) -> None:
        try:
            response = self._send(
                outcomes_pb2.ReportOutcomesRequest(outcomes=batch), self._send_timeout_s
            )
            self.sent += response.accepted
            self.rejected += len(response.rejected)
            for rejection in response.rejected[:3]:
                _log.debug("outcome rejected: %s %s", rejection.decision_id, rejection.message)
        except Exception as error:  # fire-and-forget: a report never fails the caller
            self.dropped += len(batch)
            _log.debug("outcome report failed (%d dropped): %s", len(batch), error)
        finally:
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()
