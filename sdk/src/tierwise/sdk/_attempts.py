"""Per-attempt timeouts for route(): a hung replica costs one attempt, not the deadline.

With round robin over several replicas, a call that lands on a frozen one (SIGSTOP, a GC
pause, a stuck node) would wait the whole deadline and then fail open. Instead the first
attempts get a fraction of the deadline each; on a timeout, UNAVAILABLE or
UNAVAILABLE the next attempt goes to the next replica with what is left. (Not on
RESOURCE_EXHAUSTED: that also means "message too large", which no replica would take.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, TypeVar

import grpc

from tierwise.sdk.errors import DeadlineExceededError, TierwiseError

T = TypeVar("T")

# Codes where another replica may well answer.
RETRY_CODES: Final = frozenset({grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE})


def with_attempts(
    call: Callable[[float], T], deadline_s: float, attempt_fraction: float, attempts: int
) -> T:
    """`call(timeout_s)` up to `attempts` times within `deadline_s` overall; every attempt
    but the last gets at most attempt_fraction × deadline_s."""
    end = time.monotonic() + deadline_s
    per_attempt = attempt_fraction * deadline_s
    for attempt in range(attempts):
        remaining = end - time.monotonic()
        if remaining <= 0:
            break
        last = attempt == attempts - 1
        try:
            return call(remaining if last else min(per_attempt, remaining))
        except TierwiseError as error:
            if last or error.code not in RETRY_CODES:
                raise
    raise DeadlineExceededError("deadline exceeded", grpc.StatusCode.DEADLINE_EXCEEDED)
