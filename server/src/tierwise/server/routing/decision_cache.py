"""Recent routing decisions, so a repeated request skips the model and the policy.

A decision is a pure function of the request (encoder text, prompt length, every option),
the model, the cost table, the active policy and the active latency figures. Model and
table are fixed for the life of a server; policy and latency figures are not, so the cache
belongs to one (policy, latency) pair of objects and empties itself the first time it sees
another one active (SIGHUP, `tierwise policy apply`, `tierwise latency apply`). The
key holds a 128-bit BLAKE2b digest of the encoder text instead of the text, which keeps
an entry at ≈1.5 KB whatever the query length.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

from tierwise.server.routing.latency import LatencyHolder, LatencyModel
from tierwise.server.routing.policy import Policy, PolicyHolder
from tierwise.server.routing.router import RouteDecision, RouteInput

# What a decision was made under besides its request: compared by identity.
State = tuple[Policy, LatencyModel | None]

DIGEST_BYTES: Final = 16


def _signed(value: float | None) -> Hashable:
    # 0.0 == -0.0 (and they hash alike), but the reason text and the echoed quality target
    # keep the sign: the key must tell them apart.
    return None if value is None else (value, math.copysign(1.0, value))


# Every field of RouteInput, in order: a field added there is part of the key without an
# edit here (a hand-written list would give stale hits for a forgotten one).
_FIELDS: Final = tuple(f.name for f in dataclasses.fields(RouteInput))


def _part(name: str, value: object) -> Hashable:
    if name == "text":
        assert isinstance(value, str)
        return hashlib.blake2b(
            value.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES
        ).digest()
    if isinstance(value, float):
        return _signed(value)
    assert isinstance(value, Hashable), f"RouteInput.{name} must be hashable to be cached"
    return value


def cache_key(item: RouteInput) -> Hashable:
    """Everything a decision depends on besides model, table and policy: every field of the
    request (the text as a digest)."""
    return tuple(_part(name, getattr(item, name)) for name in _FIELDS)


class DecisionCache:
    """A thread-safe LRU of decisions made under one policy (at most `max_entries`)."""

    def __init__(
        self, max_entries: int, policies: PolicyHolder, latency: LatencyHolder | None = None
    ) -> None:
        """``latency`` None: the latency figures never change while this cache lives."""
        if max_entries < 1:
            raise ValueError("max_entries: must be >= 1 (leave the cache out to disable it)")
        self.max_entries = max_entries
        self._policies = policies
        self._latency = latency
        self._lock = threading.Lock()
        self._state: State = self.state()
        self._entries: OrderedDict[Hashable, RouteDecision] = OrderedDict()

    def state(self) -> State:
        """The active (policy, latency figures): read it before routing, give it to put()."""
        latency = None if self._latency is None else self._latency.current
        return (self._policies.current, latency)

    def _is_current(self, state: State) -> bool:
        return all(a is b for a, b in zip(state, self._state, strict=True))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> RouteDecision | None:
        state = self.state()
        with self._lock:
            if not self._is_current(state):
                self._reset(state)
                return None
            decision = self._entries.get(key)
            if decision is not None:
                self._entries.move_to_end(key)
            return decision

    def put(self, key: Hashable, decision: RouteDecision, state: State | Policy) -> None:
        """Remember `decision`, made under `state` (dropped if that is no longer active); a
        bare policy stands for (policy, the latency figures active now)."""
        if isinstance(state, Policy):
            state = (state, self.state()[1])
        with self._lock:
            if not self._is_current(state):
                now = self.state()
                if not all(a is b for a, b in zip(state, now, strict=True)):
                    return
                self._reset(state)
            self._entries[key] = decision
            self._entries.move_to_end(key)
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _reset(self, state: State) -> None:
        self._entries.clear()
        self._state = state
