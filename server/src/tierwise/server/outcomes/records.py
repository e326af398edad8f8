"""What the outcome store keeps: decisions (from Route) and outcomes (from ReportOutcomes)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Final

STOP_REASONS: Final = frozenset({"accepted", "exhausted", "deadline", "budget", "error"})


@dataclass(frozen=True)
class AttemptRecord:
    tier: str
    score: float | None
    accepted: bool
    cost_usd: float
    latency_ms: float
    quality: float | None = None
    error: str = ""


@dataclass(frozen=True)
class OutcomeRecord:
    decision_id: str
    reported_at: float  # unix seconds
    attempts: tuple[AttemptRecord, ...]
    final_tier: str
    stop_reason: str
    caller: str = ""
    feature: str = ""

    def attempts_json(self) -> str:
        return json.dumps([asdict(a) for a in self.attempts], separators=(",", ":"))

    @staticmethod
    def attempts_from_json(text: str) -> tuple[AttemptRecord, ...]:
        rows: list[dict[str, Any]] = json.loads(text)
        return tuple(AttemptRecord(**row) for row in rows)


@dataclass(frozen=True)
class DecisionRecord:
    decision_id: str
    decided_at: float  # unix seconds
    strategy: str
    tier: str
    plan_tiers: tuple[str, ...]
    policy_version: str
    input_tokens: int
    caller: str = ""
    feature: str = ""
    # Only when the operator opted in (--store-query-text): replay needs it to score queries.
    query_text: str | None = None


@dataclass(frozen=True)
class StoredOutcome:
    """An outcome with the decision it reports on (None when the decision row is missing)."""

    outcome: OutcomeRecord
    decision: DecisionRecord | None
