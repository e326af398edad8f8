"""Attempts within one deadline, each on a replica picked afresh (sync and asyncio).

A call that lands on a frozen replica (SIGSTOP, a GC pause, a stuck node) would wait the
whole deadline and then fail open. Instead route()'s attempts but the last get a fraction
of the deadline each; on a timeout or UNAVAILABLE the replica is ejected (_replicas.py) and
the next attempt goes to another replica with what is left. (Not on RESOURCE_EXHAUSTED:
that also means "message too large", which no replica would take.)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import grpc

from tierwise.sdk._replicas import Replica, ReplicaSet
from tierwise.sdk.errors import DeadlineExceededError, TierwiseError
from tierwise.sdk.settings import ClientSettings

T = TypeVar("T")
E = TypeVar("E")

# Codes where another replica may well answer.
RETRY_CODES: Final = frozenset({grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE})
# Route is fast and idempotent: a timed-out attempt means the replica is hung.
ROUTE_EJECT_CODES: Final = RETRY_CODES
# Pricing and admin calls can be legitimately slow: only "unreachable" ejects.
OTHER_EJECT_CODES: Final = frozenset({grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True)
class AttemptPlan:
    """`attempts` within `deadline_s`; all but the last get ≤ attempt_fraction × deadline_s."""

    deadline_s: float
    attempt_fraction: float
    attempts: int
    eject_codes: frozenset[grpc.StatusCode]


class _Attempts(Generic[E]):
    """The timing and bookkeeping shared by the sync and asyncio loops."""

    def __init__(self, replicas: ReplicaSet[E], plan: AttemptPlan) -> None:
        self.replicas = replicas
        self.plan = plan
        self.end = time.monotonic() + plan.deadline_s
        self.per_attempt_s = plan.attempt_fraction * plan.deadline_s
        self.tried: list[Replica[E]] = []
        self.last_error: TierwiseError | None = None

    def next(self, attempt: int) -> tuple[Replica[E], float] | None:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            return None
        replica = self.replicas.pick(avoid=self.tried)
        self.tried.append(replica)
        last = attempt == self.plan.attempts - 1
        return replica, remaining if last else min(self.per_attempt_s, remaining)

    def failed(self, replica: Replica[E], error: TierwiseError, attempt: int) -> None:
        """Eject if the code says so; re-raise when there is no point in another attempt."""
        if error.code in self.plan.eject_codes:
            self.replicas.failed(replica)
        if attempt == self.plan.attempts - 1 or error.code not in RETRY_CODES:
            raise error
        self.last_error = error

    def exhausted(self) -> TierwiseError:
        return self.last_error or DeadlineExceededError(
            "deadline exceeded", grpc.StatusCode.DEADLINE_EXCEEDED
        )


def with_attempts(call: Callable[[E, float], T], replicas: ReplicaSet[E], plan: AttemptPlan) -> T:
    """`call(endpoint, timeout_s)` per the plan, each attempt on a freshly picked replica."""
    state = _Attempts(replicas, plan)
    for attempt in range(plan.attempts):
        picked = state.next(attempt)
        if picked is None:
            break
        replica, timeout_s = picked
        try:
            result = call(replica.endpoint, timeout_s)
        except TierwiseError as error:
            state.failed(replica, error, attempt)
            continue
        replicas.succeeded(replica)
        return result
    raise state.exhausted()


async def with_attempts_async(
    call: Callable[[E, float], Awaitable[T]], replicas: ReplicaSet[E], plan: AttemptPlan
) -> T:
    """with_attempts for coroutines."""
    state = _Attempts(replicas, plan)
    for attempt in range(plan.attempts):
        picked = state.next(attempt)
        if picked is None:
            break
        replica, timeout_s = picked
        try:
            result = await call(replica.endpoint, timeout_s)
        except TierwiseError as error:
            state.failed(replica, error, attempt)
            continue
        replicas.succeeded(replica)
        return result
    raise state.exhausted()


def route_plan(settings: ClientSettings, timeout_s: float | None) -> AttemptPlan:
    deadline = timeout_s if timeout_s is not None else settings.route_timeout_s
    return AttemptPlan(
        deadline, settings.route_attempt_fraction, settings.route_attempts, ROUTE_EJECT_CODES
    )


def other_plan(settings: ClientSettings, timeout_s: float | None, replicas: int) -> AttemptPlan:
    """One attempt per replica at most (max_attempts), each allowed the whole timeout."""
    deadline = timeout_s if timeout_s is not None else settings.timeout_s
    return AttemptPlan(deadline, 1.0, min(replicas, settings.max_attempts), OTHER_EJECT_CODES)
