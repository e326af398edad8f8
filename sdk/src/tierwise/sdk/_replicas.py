"""Replicas with outlier ejection: a replica that timed out is avoided until it answers health.

A hung replica (SIGSTOP, a stuck node, a long pause) still accepts TCP connections, so
gRPC's own round robin keeps sending it every other call. Here the clients pick a replica
per attempt: one whose attempt timed out (or was UNAVAILABLE) is ejected for a backoff
period that doubles with each consecutive ejection (up to a cap); when the period is over
it is probed with a health check off the caller's path, and only an answer brings it back.
A failed probe ejects it again, for longer. If every replica is ejected they are all tried
anyway: a slow answer is better than none.

This module is the bookkeeping only (thread-safe, no I/O): the sync and asyncio clients run
the calls and the probes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass(frozen=True)
class EjectionPolicy:
    """How long an ejected replica is avoided: base_s × 2^(consecutive ejections − 1), ≤ max_s."""

    base_s: float
    max_s: float

    def __post_init__(self) -> None:
        if not 0 < self.base_s <= self.max_s:
            raise ValueError("ejection: need 0 < base_s <= max_s")

    def period_s(self, ejections: int) -> float:
        return float(min(self.max_s, self.base_s * 2 ** min(ejections - 1, 30)))


class Replica(Generic[E]):
    """One replica address, its endpoint (channel and stubs), and its ejection state."""

    def __init__(self, address: str, endpoint: E) -> None:
        self.address = address
        self.endpoint = endpoint
        self.ejected_until: float | None = None  # None: in rotation
        self.ejections = 0  # consecutive; reset by a successful call
        self.probing = False

    @property
    def ejected(self) -> bool:
        return self.ejected_until is not None


class ReplicaSet(Generic[E]):
    def __init__(
        self,
        endpoints: Iterable[tuple[str, E]],
        policy: EjectionPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replicas = [Replica(address, endpoint) for address, endpoint in endpoints]
        if not self._replicas:
            raise ValueError("replicas: need at least one")
        self._policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0

    def __len__(self) -> int:
        return len(self._replicas)

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(r.address for r in self._replicas)

    @property
    def ejected(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(r.address for r in self._replicas if r.ejected)

    def all(self) -> list[Replica[E]]:
        with self._lock:
            return list(self._replicas)

    def pick(self, avoid: Iterable[Replica[E]] = ()) -> Replica[E]:
        """The next replica in rotation, skipping ejected ones and `avoid` (tried already)."""
        skip = {id(r) for r in avoid}
        with self._lock:
            count = len(self._replicas)
            start = self._next
            self._next = (start + 1) % count
            ordered = [self._replicas[(start + i) % count] for i in range(count)]
        for replica in ordered:
            if not replica.ejected and id(replica) not in skip:
                return replica
        # Everything usable was tried or is ejected: untried first, then the one whose
        # ejection ends soonest (it is the likeliest to be back).
        untried = [r for r in ordered if id(r) not in skip] or ordered
        return min(untried, key=lambda r: r.ejected_until or 0.0)

    def succeeded(self, replica: Replica[E]) -> None:
        with self._lock:
            replica.ejections = 0
            replica.ejected_until = None

    def failed(self, replica: Replica[E]) -> None:
        """The replica timed out or was unavailable: out of rotation for its backoff period."""
        with self._lock:
            if replica.ejected:  # already out (a concurrent call saw the same hang)
                return
            self._eject(replica)

    def _eject(self, replica: Replica[E]) -> None:
        replica.ejections += 1
        replica.ejected_until = self._clock() + self._policy.period_s(replica.ejections)

    def due_for_probe(self) -> list[Replica[E]]:
        """Ejected replicas whose period is over and that no probe is checking yet; each
        returned replica is marked as being probed (the caller must report `probed`)."""
        now = self._clock()
        due = []
        with self._lock:
            for replica in self._replicas:
                until = replica.ejected_until
                if until is not None and until <= now and not replica.probing:
                    replica.probing = True
                    due.append(replica)
        return due

    def probed(self, replica: Replica[E], answered: bool) -> None:
        """A health probe answered (back in rotation) or did not (ejected again, longer)."""
        with self._lock:
            replica.probing = False
            if not replica.ejected:
                return
            if answered:
                replica.ejected_until = None
            else:
                self._eject(replica)

    def replace(self, addresses: Iterable[str], connect: Callable[[str], E]) -> list[E]:
        """New addresses (DNS changed): the replicas still named keep their state, new ones
        are connected; returns the endpoints of the removed ones (for the caller to close)."""
        with self._lock:
            current = {r.address: r for r in self._replicas}
            kept: list[Replica[E]] = []
            for address in addresses:
                known = current.pop(address, None)
                kept.append(known or Replica(address, connect(address)))
            if not kept:  # a name that resolves to nothing: keep what we had
                return []
            self._replicas = kept
            self._next %= len(kept)
            return [r.endpoint for r in current.values()]
