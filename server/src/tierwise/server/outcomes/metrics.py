"""Outcome metrics: escalation per tier and per caller/feature, first-try acceptance,
verifier score histograms, store writes. Registered on the server's own registry."""

from __future__ import annotations

import threading
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

from tierwise.server.outcomes.records import OutcomeRecord

# Caller and feature come from clients: only this many distinct values get their own label,
# the rest count as "other" (a label per arbitrary string would grow the registry forever).
MAX_LABEL_VALUES: Final = 50
MAX_LABEL_CHARS: Final = 64
OTHER: Final = "other"
UNSET: Final = "unset"
_SCORE_BUCKETS: Final = tuple(round(0.1 * i, 1) for i in range(1, 11))


class BoundedLabels:
    def __init__(self, max_values: int = MAX_LABEL_VALUES) -> None:
        self._max_values = max_values
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if not value:
            return UNSET
        value = value[:MAX_LABEL_CHARS]
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) >= self._max_values:
                return OTHER
            self._seen.add(value)
        return value


class OutcomeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._callers = BoundedLabels()
        self._features = BoundedLabels()
        self.reports = Counter(
            "tierwise_outcome_reports_total",
            "Outcomes reported, by result (accepted, unknown_decision, duplicate, invalid, "
            "overloaded).",
            ["result"],
            registry=registry,
        )
        self.runs = Counter(
            "tierwise_cascade_runs_total",
            "Recorded outcomes (one per decision), by caller and feature.",
            ["caller", "feature"],
            registry=registry,
        )
        self.first_try = Counter(
            "tierwise_cascade_first_try_accepted_total",
            "Recorded outcomes whose first attempt was accepted, by caller and feature.",
            ["caller", "feature"],
            registry=registry,
        )
        self.attempts = Counter(
            "tierwise_cascade_attempts_total",
            "Tier calls reported, by tier, caller and feature.",
            ["tier", "caller", "feature"],
            registry=registry,
        )
        self.escalations = Counter(
            "tierwise_cascade_escalations_total",
            "Attempts whose answer was rejected and passed to the next tier, by tier, caller "
            "and feature.",
            ["tier", "caller", "feature"],
            registry=registry,
        )
        self.scores = Histogram(
            "tierwise_verifier_score",
            "Verifier scores of reported attempts, by tier.",
            ["tier"],
            buckets=_SCORE_BUCKETS,
            registry=registry,
        )
        self.store_writes = Counter(
            "tierwise_outcome_store_writes_total",
            "Records written to the outcome store, by result (ok, error, dropped).",
            ["result"],
            registry=registry,
        )

    def observe_report(self, result: str) -> None:
        self.reports.labels(result=result).inc()

    def observe_outcome(self, outcome: OutcomeRecord) -> None:
        caller, feature = self._callers(outcome.caller), self._features(outcome.feature)
        self.runs.labels(caller=caller, feature=feature).inc()
        # Created even when not incremented: with every cascade escalating, the alert's
        # ratio must read 0 accepted, not a missing series.
        first_try = self.first_try.labels(caller=caller, feature=feature)
        if outcome.attempts and outcome.attempts[0].accepted:
            first_try.inc()
        last = len(outcome.attempts) - 1
        for index, attempt in enumerate(outcome.attempts):
            self.attempts.labels(tier=attempt.tier, caller=caller, feature=feature).inc()
            if index < last and not attempt.accepted:
                self.escalations.labels(tier=attempt.tier, caller=caller, feature=feature).inc()
            if attempt.score is not None:
                self.scores.labels(tier=attempt.tier).observe(attempt.score)

    def observe_write(self, result: str, count: int) -> None:
        self.store_writes.labels(result=result).inc(count)
