"""OutcomeService: validate a batch of outcomes, let the recorder judge and queue them."""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from typing import Final

import grpc

from tierwise.server.errors import InvalidRequestError
from tierwise.server.outcomes.recorder import OutcomeRecorder, Verdict
from tierwise.server.outcomes.records import STOP_REASONS, AttemptRecord, OutcomeRecord
from tierwise.server.rpc.status import rpc_errors
from tierwise.v1 import outcomes_pb2, outcomes_pb2_grpc

MAX_ATTEMPTS_PER_OUTCOME: Final = 16
MAX_ID_CHARS: Final = 128
MAX_TEXT_CHARS: Final = 256
_REASONS: Final = {
    Verdict.UNKNOWN_DECISION: outcomes_pb2.REJECTION_REASON_UNKNOWN_DECISION,
    Verdict.DUPLICATE: outcomes_pb2.REJECTION_REASON_DUPLICATE,
    Verdict.INVALID: outcomes_pb2.REJECTION_REASON_INVALID,
    Verdict.OVERLOADED: outcomes_pb2.REJECTION_REASON_OVERLOADED,
}


def _unit(value: float, field: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRequestError(field, f"must be in [0, 1] (got {value})")
    return value


def _attempt(message: outcomes_pb2.Attempt, field: str, tiers: Collection[str]) -> AttemptRecord:
    if message.tier not in tiers:
        raise InvalidRequestError(f"{field}.tier", f"unknown tier {message.tier!r}")
    for name in ("cost_usd", "latency_ms"):
        value = getattr(message, name)
        if not (math.isfinite(value) and value >= 0.0):
            raise InvalidRequestError(f"{field}.{name}", f"must be >= 0 (got {value})")
    return AttemptRecord(
        tier=message.tier,
        score=_unit(message.score, f"{field}.score") if message.HasField("score") else None,
        accepted=message.accepted,
        cost_usd=message.cost_usd,
        latency_ms=message.latency_ms,
        quality=(
            _unit(message.quality, f"{field}.quality") if message.HasField("quality") else None
        ),
        error=message.error[:MAX_TEXT_CHARS],
    )


def outcome_record(
    message: outcomes_pb2.Outcome, field: str, tiers: Collection[str], now: float
) -> OutcomeRecord:
    if not 0 < len(message.decision_id) <= MAX_ID_CHARS:
        raise InvalidRequestError(f"{field}.decision_id", f"required, at most {MAX_ID_CHARS} chars")
    count = len(message.attempts)
    if not 0 < count <= MAX_ATTEMPTS_PER_OUTCOME:
        raise InvalidRequestError(
            f"{field}.attempts", f"needs 1 to {MAX_ATTEMPTS_PER_OUTCOME} attempts (got {count})"
        )
    attempts = tuple(
        _attempt(a, f"{field}.attempts[{i}]", tiers) for i, a in enumerate(message.attempts)
    )
    if sum(a.accepted for a in attempts) > 1:
        raise InvalidRequestError(f"{field}.attempts", "at most one attempt can be accepted")
    if message.final_tier and message.final_tier not in {a.tier for a in attempts}:
        raise InvalidRequestError(f"{field}.final_tier", "must be the tier of one of the attempts")
    stop = message.stop_reason or ("accepted" if any(a.accepted for a in attempts) else "exhausted")
    if stop not in STOP_REASONS:
        raise InvalidRequestError(
            f"{field}.stop_reason", f"must be one of {', '.join(sorted(STOP_REASONS))}"
        )
    return OutcomeRecord(
        decision_id=message.decision_id,
        reported_at=now,
        attempts=attempts,
        final_tier=message.final_tier,
        stop_reason=stop,
        caller=message.caller[:MAX_TEXT_CHARS],
        feature=message.feature[:MAX_TEXT_CHARS],
    )


class OutcomeService(outcomes_pb2_grpc.OutcomeServiceServicer):
    def __init__(
        self, recorder: OutcomeRecorder, known_tiers: Collection[str], *, max_batch: int
    ) -> None:
        self._recorder = recorder
        self._tiers = frozenset(known_tiers)
        self._max_batch = max_batch

    def ReportOutcomes(
        self, request: outcomes_pb2.ReportOutcomesRequest, context: grpc.ServicerContext
    ) -> outcomes_pb2.ReportOutcomesResponse:
        with rpc_errors(context):
            count = len(request.outcomes)
            if count > self._max_batch:
                raise InvalidRequestError(
                    "outcomes", f"at most {self._max_batch} per call (got {count})"
                )
            if count == 0:
                raise InvalidRequestError("outcomes", "must not be empty")
            now = time.time()
            items: list[OutcomeRecord | tuple[str, str]] = []
            for index, message in enumerate(request.outcomes):
                try:
                    items.append(outcome_record(message, f"outcomes[{index}]", self._tiers, now))
                except InvalidRequestError as error:
                    items.append((message.decision_id, str(error)))
            judgements = self._recorder.report(items)
            response = outcomes_pb2.ReportOutcomesResponse()
            for judgement in judgements:
                if judgement.verdict is Verdict.ACCEPTED:
                    response.accepted += 1
                else:
                    response.rejected.add(
                        index=judgement.index,
                        decision_id=judgement.decision_id,
                        reason=_REASONS[judgement.verdict],
                        message=judgement.message,
                    )
            return response
