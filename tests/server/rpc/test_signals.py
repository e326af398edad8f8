"""SignalInbox: the main thread wakes for a signal whichever thread the kernel gave it to."""

from __future__ import annotations

import signal
import threading

from tierwise.server.rpc.signals import SignalInbox


def test_a_signal_taken_by_another_thread_still_reaches_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGHUP)
    inbox = SignalInbox((signal.SIGHUP, signal.SIGTERM))
    try:
        # pthread_kill makes the kernel deliver to that thread, as it may do under load
        # (the case where a main thread blocked in Event.wait never woke up).
        def deliver_here() -> None:
            signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

        worker = threading.Thread(target=deliver_here)
        worker.start()
        worker.join()
        assert inbox.next(timeout_s=5) is signal.SIGHUP
        assert inbox.next(timeout_s=5) is signal.SIGTERM
        assert inbox.next(timeout_s=0.05) is None
    finally:
        inbox.close()
    assert signal.getsignal(signal.SIGHUP) == before
