"""Cascades: try the plan's tiers in order, keep the first answer the scorer accepts.

    result = client.cascade(query, call_tier=ask_llm, score=verify,
                            fallback_tiers=("haiku", "sonnet", "opus"))
    result.answer, result.tier, result.attempts

`call_tier(tier, query)` calls the LLM behind a tier and returns its answer (or a
`TierReply(value, cost_usd)` when the caller knows the real cost); `score(query, answer,
tier)` returns 0..1. The plan comes from the server (strategy "cascade" or "hybrid"); when
the server cannot be reached the cascade runs `fallback_tiers` with `fallback_threshold`.
Each run's attempts are reported to the server in the background (never blocking, never
failing the call). The deadline and budget are checked before each attempt (the asyncio
version also cancels an attempt that runs past the deadline).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from tierwise.sdk._convert import fail_open_decision
from tierwise.sdk._outcome_reporter import OutcomeReporter
from tierwise.sdk._requests import Query
from tierwise.sdk.errors import InvalidArgumentError, TierwiseError
from tierwise.sdk.results import Decision, Plan, PlanStep
from tierwise.v1 import outcomes_pb2

A = TypeVar("A")
DEFAULT_FALLBACK_THRESHOLD: Final = 0.5


@dataclass(frozen=True)
class TierReply(Generic[A]):
    """What call_tier may return to give the attempt's real cost."""

    value: A
    cost_usd: float


@dataclass(frozen=True)
class CascadeAttempt:
    tier: str
    score: float | None  # None when the call or the scorer failed
    accepted: bool
    cost_usd: float
    latency_ms: float
    error: str = ""


@dataclass(frozen=True)
class CascadeResult(Generic[A]):
    """The answer used (None only when no attempt produced one) and every attempt made."""

    answer: A | None
    tier: str | None
    accepted: bool
    score: float | None
    stop_reason: str  # accepted, exhausted, deadline, budget, error
    attempts: tuple[CascadeAttempt, ...]
    decision: Decision
    cost_usd: float
    elapsed_ms: float


CallTier = Callable[[str, Query], Any]
Score = Callable[[Query, Any, str], float]
AsyncCallTier = Callable[[str, Query], Awaitable[Any]]
AsyncScore = Callable[[Query, Any, str], Awaitable[float] | float]


def fallback_plan(tiers: Sequence[str], threshold: float, strategy: str) -> Plan:
    steps = tuple(
        PlanStep(
            tier=t,
            model="",
            accept_threshold=0.0 if i == len(tiers) - 1 else threshold,
            p_reached=0.0,
            quoted_usd=0.0,
            latency_ms=0.0,
        )
        for i, t in enumerate(tiers)
    )
    return Plan(strategy, steps, 0.0, 0.0, 0.0)


def resolve_plan(
    decision: Decision | TierwiseError,
    fallback_tiers: Sequence[str],
    fallback_threshold: float,
    strategy: str,
) -> tuple[Decision, Plan]:
    """The plan to run: the server's, else a one-tier plan for a classifier decision, else
    (server unreachable) the fallback tiers; raises the route error when there are none."""
    if isinstance(decision, TierwiseError):
        if not fallback_tiers:
            raise decision
        why = decision.message
        decision = fail_open_decision(fallback_tiers[0], why)
        return decision, fallback_plan(fallback_tiers, fallback_threshold, strategy)
    if decision.plan is not None and decision.plan.steps:
        return decision, decision.plan
    if decision.fail_open and fallback_tiers:
        return decision, fallback_plan(fallback_tiers, fallback_threshold, strategy)
    single = PlanStep(decision.tier, decision.model, 0.0, 1.0, _quote(decision), 0.0)
    return decision, Plan(decision.strategy, (single,), single.quoted_usd, 0.0, 0.0)


def _quote(decision: Decision) -> float:
    for estimate in decision.estimates:
        if estimate.tier == decision.tier:
            return estimate.quoted_usd
    return 0.0


def check_options(
    deadline_s: float | None, budget_usd: float | None, fallback_threshold: float
) -> None:
    if deadline_s is not None and not (math.isfinite(deadline_s) and deadline_s > 0):
        raise InvalidArgumentError(f"deadline_s: must be > 0 (got {deadline_s})")
    if budget_usd is not None and not (math.isfinite(budget_usd) and budget_usd >= 0):
        raise InvalidArgumentError(f"budget_usd: must be >= 0 (got {budget_usd})")
    if not 0.0 <= fallback_threshold <= 1.0:
        raise InvalidArgumentError(
            f"fallback_threshold: must be in [0, 1] (got {fallback_threshold})"
        )


class _Run:
    """Book-keeping shared by the sync and async loops."""

    def __init__(
        self, decision: Decision, plan: Plan, deadline_s: float | None, budget: float | None
    ):
        self.decision = decision
        self.plan = plan
        self.started = time.monotonic()
        self.deadline = None if deadline_s is None else self.started + deadline_s
        self.budget = budget
        self.spent = 0.0
        self.attempts: list[CascadeAttempt] = []
        self.best: tuple[float, Any, str] | None = None  # (score, answer, tier)
        self.last_error: BaseException | None = None

    def stop_before(self, step: PlanStep) -> str | None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "deadline"
        if self.budget is not None and self.spent + step.quoted_usd > self.budget + 1e-12:
            return "budget"
        return None

    def remaining_s(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def record(
        self, step: PlanStep, reply: Any, score: float | None, started: float, error: str
    ) -> bool:
        """Note one attempt; True when its answer is accepted."""
        # A call that raised is counted free (an error is rarely billed); an answer costs the
        # plan's quote unless the caller gave the real figure.
        cost = 0.0 if error.startswith("call:") else step.quoted_usd
        answer = reply
        if isinstance(reply, TierReply):
            answer, cost = reply.value, float(reply.cost_usd)
        self.spent += cost
        accepted = score is not None and score >= step.accept_threshold
        self.attempts.append(
            CascadeAttempt(
                tier=step.tier,
                score=score,
                accepted=accepted,
                cost_usd=cost,
                latency_ms=(time.monotonic() - started) * 1000.0,
                error=error,
            )
        )
        if score is not None and (self.best is None or score > self.best[0]):
            self.best = (score, answer, step.tier)
        if accepted:
            self.best = (score if score is not None else 0.0, answer, step.tier)
        return accepted

    def result(self, stop_reason: str) -> CascadeResult[Any]:
        accepted = stop_reason == "accepted"
        # Every attempt raised: there is no answer to return, so the caller sees its own
        # error. Stopped by the deadline or the budget, the result says so instead.
        if stop_reason == "error" and self.last_error is not None:
            raise self.last_error
        score, answer, tier = self.best if self.best is not None else (None, None, None)
        return CascadeResult(
            answer=answer,
            tier=tier,
            accepted=accepted,
            score=score,
            stop_reason=stop_reason,
            attempts=tuple(self.attempts),
            decision=self.decision,
            cost_usd=self.spent,
            elapsed_ms=(time.monotonic() - self.started) * 1000.0,
        )

    def outcome(
        self, result: CascadeResult[Any], caller: str, feature: str
    ) -> outcomes_pb2.Outcome:
        message = outcomes_pb2.Outcome(
            decision_id=self.decision.decision_id,
            final_tier=result.tier or "",
            stop_reason=result.stop_reason,
            caller=caller,
            feature=feature,
        )
        for attempt in result.attempts:
            item = message.attempts.add(
                tier=attempt.tier,
                accepted=attempt.accepted,
                cost_usd=attempt.cost_usd,
                latency_ms=attempt.latency_ms,
                error=attempt.error,
            )
            if attempt.score is not None:
                item.score = attempt.score
        return message


def _clip_score(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"score is not finite: {value!r}")
    return min(1.0, max(0.0, number))


def report(
    run: _Run, result: CascadeResult[Any], reporter: OutcomeReporter | None, options: dict[str, Any]
) -> None:
    if reporter is None or not run.decision.decision_id or not result.attempts:
        return
    reporter.offer(
        run.outcome(result, str(options.get("caller", "")), str(options.get("feature", "")))
    )


def run_sync(
    decision: Decision,
    plan: Plan,
    query: Query,
    call_tier: CallTier,
    score: Score,
    *,
    deadline_s: float | None,
    budget_usd: float | None,
) -> tuple[_Run, CascadeResult[Any]]:
    run = _Run(decision, plan, deadline_s, budget_usd)
    for step in plan.steps:
        stop = run.stop_before(step)
        if stop is not None:
            return run, run.result(stop)
        started = time.monotonic()
        try:
            reply = call_tier(step.tier, query)
        except Exception as error:  # the tier failed: escalate, as for a rejected answer
            run.last_error = error
            run.record(step, None, None, started, f"call: {type(error).__name__}")
            continue
        try:
            value = reply.value if isinstance(reply, TierReply) else reply
            verdict: float | None = _clip_score(score(query, value, step.tier))
            error_text = ""
        except Exception as error:
            run.last_error = error
            verdict, error_text = None, f"score: {type(error).__name__}"
        if run.record(step, reply, verdict, started, error_text):
            return run, run.result("accepted")
    return run, run.result("exhausted" if run.best is not None else "error")


async def run_async(
    decision: Decision,
    plan: Plan,
    query: Query,
    call_tier: AsyncCallTier,
    score: AsyncScore,
    *,
    deadline_s: float | None,
    budget_usd: float | None,
) -> tuple[_Run, CascadeResult[Any]]:
    run = _Run(decision, plan, deadline_s, budget_usd)
    for step in plan.steps:
        stop = run.stop_before(step)
        if stop is not None:
            return run, run.result(stop)
        started = time.monotonic()
        try:
            reply = await asyncio.wait_for(call_tier(step.tier, query), run.remaining_s())
        except TimeoutError as error:
            run.last_error = error
            run.record(step, None, None, started, "call: deadline")
            return run, run.result("deadline")
        except Exception as error:
            run.last_error = error
            run.record(step, None, None, started, f"call: {type(error).__name__}")
            continue
        try:
            value = reply.value if isinstance(reply, TierReply) else reply
            raw = score(query, value, step.tier)
            if asyncio.iscoroutine(raw) or isinstance(raw, asyncio.Future):
                raw = await raw
            verdict: float | None = _clip_score(raw)
            error_text = ""
        except Exception as error:
            run.last_error = error
            verdict, error_text = None, f"score: {type(error).__name__}"
        if run.record(step, reply, verdict, started, error_text):
            return run, run.result("accepted")
    return run, run.result("exhausted" if run.best is not None else "error")


def _route_timeout(default_s: float, deadline_s: float | None) -> float:
    return default_s if deadline_s is None else max(0.001, min(default_s, deadline_s))


def cascade(
    client: Any,
    query: Query,
    *,
    call_tier: CallTier,
    score: Score,
    strategy: str = "cascade",
    fallback_tiers: Sequence[str] = (),
    fallback_threshold: float = DEFAULT_FALLBACK_THRESHOLD,
    deadline_s: float | None = None,
    budget_usd: float | None = None,
    report_outcome: bool = True,
    **options: Any,
) -> CascadeResult[Any]:
    """Run a cascade with a TierwiseClient (see the module doc)."""
    check_options(deadline_s, budget_usd, fallback_threshold)
    started = time.monotonic()
    timeout = _route_timeout(client.settings.route_timeout_s, deadline_s)
    try:
        routed: Decision | TierwiseError = client.route(
            query, strategy=strategy, timeout_s=timeout, **options
        )
    except InvalidArgumentError:
        raise
    except TierwiseError as error:
        routed = error
    decision, plan = resolve_plan(routed, fallback_tiers, fallback_threshold, strategy)
    remaining = None if deadline_s is None else deadline_s - (time.monotonic() - started)
    run, result = run_sync(
        decision,
        plan,
        query,
        call_tier,
        score,
        deadline_s=None if remaining is None else max(remaining, 1e-6),
        budget_usd=budget_usd,
    )
    if report_outcome:
        report(run, result, client.outcome_reporter(), options)
    return result


async def cascade_async(
    client: Any,
    query: Query,
    *,
    call_tier: AsyncCallTier,
    score: AsyncScore,
    strategy: str = "cascade",
    fallback_tiers: Sequence[str] = (),
    fallback_threshold: float = DEFAULT_FALLBACK_THRESHOLD,
    deadline_s: float | None = None,
    budget_usd: float | None = None,
    report_outcome: bool = True,
    **options: Any,
) -> CascadeResult[Any]:
    """Run a cascade with an AsyncTierwiseClient (see the module doc)."""
    check_options(deadline_s, budget_usd, fallback_threshold)
    started = time.monotonic()
    timeout = _route_timeout(client.settings.route_timeout_s, deadline_s)
    try:
        routed: Decision | TierwiseError = await client.route(
            query, strategy=strategy, timeout_s=timeout, **options
        )
    except InvalidArgumentError:
        raise
    except TierwiseError as error:
        routed = error
    decision, plan = resolve_plan(routed, fallback_tiers, fallback_threshold, strategy)
    remaining = None if deadline_s is None else deadline_s - (time.monotonic() - started)
    run, result = await run_async(
        decision,
        plan,
        query,
        call_tier,
        score,
        deadline_s=None if remaining is None else max(remaining, 1e-6),
        budget_usd=budget_usd,
    )
    if report_outcome:
        report(run, result, client.outcome_reporter(), options)
    return result
