"""Process signals for `tierwise serve`, read synchronously by the main thread.

A Python signal handler only runs on the main thread, once that thread executes bytecode
again; the kernel may hand the signal to any thread (gRPC's, onnxruntime's, ...), and a
main thread blocked in a lock wait (threading.Event.wait) is woken only when it is the
thread interrupted. Under load SIGHUP landed elsewhere and the reload waited for the next
wake-up: seconds, or until SIGTERM (the flaky CLI reload test). Here every signal is also
written to a pipe (signal.set_wakeup_fd, done by the C-level handler on whichever thread
took it) and the main thread blocks reading that pipe, so it wakes for each signal.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Iterable
from types import FrameType


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """The handler proper does nothing: SignalInbox.next() reads the signal from the pipe
    (a handler that is not SIG_DFL keeps SIGHUP/SIGTERM from ending the process)."""


class SignalInbox:
    """Install before any RPC can arrive; `next()` blocks until one of `signals` arrives."""

    def __init__(self, signals: Iterable[signal.Signals]) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._pending: list[int] = []
        self._previous = {signum: signal.signal(signum, _noted) for signum in signals}
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)

    def next(self, timeout_s: float | None = None) -> signal.Signals | None:
        """The next signal, in arrival order; None if none came within timeout_s."""
        while not self._pending:
            ready, _, _ = select.select([self._read_fd], [], [], timeout_s)
            if not ready:
                return None
            self._pending.extend(os.read(self._read_fd, 64))
        return signal.Signals(self._pending.pop(0))

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        os.close(self._read_fd)
        os.close(self._write_fd)
