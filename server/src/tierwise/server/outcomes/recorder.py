"""Decision ids on the Route path, and outcome reports judged and queued for the store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from tierwise.server.outcomes.metrics import OutcomeMetrics
from tierwise.server.outcomes.records import DecisionRecord, OutcomeRecord
from tierwise.server.outcomes.registry import DecisionRegistry
from tierwise.server.outcomes.store import SqlStore
from tierwise.server.outcomes.writer import BackgroundWriter


class Verdict(Enum):
    ACCEPTED = "accepted"
    UNKNOWN_DECISION = "unknown_decision"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    OVERLOADED = "overloaded"


@dataclass(frozen=True)
class Judgement:
    index: int
    decision_id: str
    verdict: Verdict
    message: str


class OutcomeRecorder:
    """Shared by RouterService (issue) and OutcomeService (report)."""

    def __init__(
        self,
        registry: DecisionRegistry,
        metrics: OutcomeMetrics,
        *,
        store: SqlStore | None = None,
        writer: BackgroundWriter | None = None,
        store_query_text: bool = False,
    ) -> None:
        self.registry = registry
        self.metrics = metrics
        self.store = store
        self.writer = writer
        self.store_query_text = store_query_text

    def issue(
        self,
        *,
        strategy: str,
        tier: str,
        plan_tiers: tuple[str, ...],
        policy_version: str,
        input_tokens: int,
        caller: str,
        feature: str,
        query_text: str,
    ) -> str:
        """A fresh decision id (remembered; queued for the store when there is one)."""
        tiers = plan_tiers or (tier,)
        decision_id = self.registry.issue(tiers)
        if self.writer is not None:
            record = DecisionRecord(
                decision_id=decision_id,
                decided_at=time.time(),
                strategy=strategy,
                tier=tier,
                plan_tiers=tiers,
                policy_version=policy_version,
                input_tokens=input_tokens,
                caller=caller,
                feature=feature,
                query_text=query_text if self.store_query_text else None,
            )
            if not self.writer.offer(record):
                self.metrics.observe_write("dropped", 1)
        return decision_id

    def _known(self, decision_id: str) -> tuple[bool, bool]:
        """(known, already reported)."""
        entry = self.registry.lookup(decision_id)
        if entry is not None:
            reported = entry[1] or (self.store is not None and self.store.has_outcome(decision_id))
            return True, reported
        if self.store is not None and self.store.has_decision(decision_id):
            return True, self.store.has_outcome(decision_id)
        return False, False

    def report(self, outcomes: Sequence[OutcomeRecord | tuple[str, str]]) -> list[Judgement]:
        """Judge each outcome (an OutcomeRecord, or (decision_id, problem) for one that failed
        validation); queue the accepted ones. One judgement per outcome, in order."""
        judgements: list[Judgement] = []
        seen: set[str] = set()
        for index, item in enumerate(outcomes):
            if isinstance(item, tuple):
                decision_id, problem = item
                judgements.append(Judgement(index, decision_id, Verdict.INVALID, problem))
                continue
            decision_id = item.decision_id
            known, reported = self._known(decision_id)
            if not known:
                verdict, message = Verdict.UNKNOWN_DECISION, "not a decision issued recently"
            elif reported or decision_id in seen:
                verdict, message = Verdict.DUPLICATE, "an outcome was already reported"
            elif self.writer is not None and not self.writer.offer(item):
                verdict, message = Verdict.OVERLOADED, "the outcome write queue is full"
                self.metrics.observe_write("dropped", 1)
            else:
                verdict, message = Verdict.ACCEPTED, ""
                seen.add(decision_id)
                self.registry.mark_reported(decision_id)
                self.metrics.observe_outcome(item)
            judgements.append(Judgement(index, decision_id, verdict, message))
        for judgement in judgements:
            self.metrics.observe_report(judgement.verdict.value)
        return judgements

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.store is not None:
            self.store.close()
