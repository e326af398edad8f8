"""cascade() over a running server with fake tier callers and scorers: plans, thresholds,
deadline, budget, outcome reports, and a server that is down."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cascade_fixtures import THRESHOLDS, cascade_server  # noqa: F401  (fixture)

from tierwise.sdk import (
    AsyncTierwiseClient,
    InvalidArgumentError,
    TierwiseClient,
    UnavailableError,
)
from tierwise.sdk.cascade import TierReply
from tierwise.server.outcomes.store import open_store
from tierwise.server.rpc.app import TierwiseServer

EASY = "what is 2 + 2"
HARD = "prove the riemann hypothesis"
ORDER = ["self-hosted", "haiku", "sonnet", "opus"]


@pytest.fixture
def sdk(cascade_server: TierwiseServer) -> Iterator[TierwiseClient]:  # noqa: F811
    with TierwiseClient(f"127.0.0.1:{cascade_server.port}") as client:
        yield client


class Fakes:
    """Tier callers that answer "<tier>: <query>" and a scorer with fixed scores per tier."""

    def __init__(self, scores: dict[str, float], sleep_s: float = 0.0) -> None:
        self.scores = scores
        self.sleep_s = sleep_s
        self.calls: list[str] = []

    def call(self, tier: str, query: Any) -> str:
        self.calls.append(tier)
        time.sleep(self.sleep_s)
        return f"{tier}: {query}"

    def score(self, query: Any, answer: Any, tier: str) -> float:
        assert answer == f"{tier}: {query}"
        return self.scores[tier]


def test_route_returns_a_cascade_plan_with_the_policy_thresholds(sdk: TierwiseClient) -> None:
    decision = sdk.route(EASY, strategy="cascade")
    assert decision.strategy == "cascade" and decision.reason_code == "PLAN"
    assert decision.plan is not None
    steps = decision.plan.steps
    assert [s.tier for s in steps] == ORDER
    assert [s.accept_threshold for s in steps] == [0.6, 0.7, 0.8, 0.0]
    assert decision.tier == "self-hosted" and steps[0].p_reached == 1.0
    assert all(a.p_reached >= b.p_reached for a, b in itertools.pairwise(steps))
    # Failed attempts are paid for: more than the first step, less than every step.
    assert steps[0].quoted_usd < decision.plan.expected_cost_usd < sum(s.quoted_usd for s in steps)
    assert 0 < decision.plan.expected_quality <= 1
    assert decision.decision_id


def test_every_response_gets_its_own_decision_id_even_from_the_cache(sdk: TierwiseClient) -> None:
    ids = {sdk.route(EASY).decision_id for _ in range(5)}
    ids |= {d.decision_id for d in sdk.route_many([EASY, EASY, HARD], strategy="hybrid")}
    assert len(ids) == 8 and "" not in ids


def test_hybrid_starts_at_the_classifier_choice(sdk: TierwiseClient) -> None:
    easy = sdk.route(EASY, strategy="hybrid")
    assert easy.plan is not None and [s.tier for s in easy.plan.steps] == ORDER
    hard = sdk.route(HARD, strategy="hybrid")
    assert hard.plan is not None and [s.tier for s in hard.plan.steps] == ["opus"]
    classifier = sdk.route(EASY)
    assert classifier.plan is None and classifier.strategy == "classifier"
    with pytest.raises(InvalidArgumentError, match="strategy"):
        sdk.route(EASY, strategy="roulette")


def test_plan_respects_allowed_tiers_and_budget(sdk: TierwiseClient) -> None:
    full = sdk.route(EASY, strategy="cascade")
    assert full.plan is not None
    first_two = sum(s.quoted_usd for s in full.plan.steps[:2])
    limited = sdk.route(EASY, strategy="cascade", max_cost_usd=first_two * 1.0001)
    assert limited.plan is not None and [s.tier for s in limited.plan.steps] == ORDER[:2]
    assert limited.plan.steps[-1].accept_threshold == 0.0
    allowed = sdk.route(EASY, strategy="cascade", allowed_tiers=["haiku", "opus"])
    assert allowed.plan is not None and [s.tier for s in allowed.plan.steps] == ["haiku", "opus"]


def test_cascade_accepts_escalates_and_stops_exactly_at_the_thresholds(
    sdk: TierwiseClient,
) -> None:
    # Just below self-hosted's threshold, exactly at haiku's: haiku's answer is used.
    fakes = Fakes({"self-hosted": THRESHOLDS["self-hosted"] - 1e-9, "haiku": 0.7, "sonnet": 1.0})
    result = sdk.cascade(EASY, call_tier=fakes.call, score=fakes.score)
    assert fakes.calls == ["self-hosted", "haiku"]
    assert result.accepted and result.stop_reason == "accepted"
    assert result.tier == "haiku" and result.answer == f"haiku: {EASY}"
    assert [(a.tier, a.accepted) for a in result.attempts] == [
        ("self-hosted", False),
        ("haiku", True),
    ]
    plan = result.decision.plan
    assert plan is not None
    assert result.cost_usd == pytest.approx(plan.steps[0].quoted_usd + plan.steps[1].quoted_usd)
    # Everything rejected until the last step, which accepts any answer.
    low = Fakes(dict.fromkeys(ORDER, 0.1))
    last = sdk.cascade(EASY, call_tier=low.call, score=low.score)
    assert low.calls == ORDER and last.tier == "opus" and last.accepted
    # Accepted on the first try.
    high = Fakes(dict.fromkeys(ORDER, 0.95))
    first = sdk.cascade(EASY, call_tier=high.call, score=high.score)
    assert high.calls == ["self-hosted"] and len(first.attempts) == 1


def test_cascade_stops_at_the_budget_and_the_deadline(sdk: TierwiseClient) -> None:
    plan = sdk.route(EASY, strategy="cascade").plan
    assert plan is not None
    budget = plan.steps[0].quoted_usd * 1.5  # the second attempt would exceed it
    low = Fakes(dict.fromkeys(ORDER, 0.1))
    result = sdk.cascade(EASY, call_tier=low.call, score=low.score, budget_usd=budget)
    assert low.calls == ["self-hosted"] and result.stop_reason == "budget"
    assert not result.accepted and result.answer == f"self-hosted: {EASY}"  # best so far
    slow = Fakes(dict.fromkeys(ORDER, 0.1), sleep_s=0.15)
    result = sdk.cascade(EASY, call_tier=slow.call, score=slow.score, deadline_s=0.1)
    assert slow.calls == ["self-hosted"] and result.stop_reason == "deadline"


def test_tier_errors_escalate_and_real_costs_are_used(sdk: TierwiseClient) -> None:
    def call(tier: str, query: Any) -> Any:
        if tier == "self-hosted":
            raise ConnectionError("tier down")
        return TierReply(f"{tier}!", cost_usd=0.25)

    result = sdk.cascade(EASY, call_tier=call, score=lambda q, a, t: 0.9)
    assert [a.tier for a in result.attempts] == ["self-hosted", "haiku"]
    assert result.attempts[0].error == "call: ConnectionError" and result.attempts[0].score is None
    assert result.answer == "haiku!" and result.cost_usd == pytest.approx(0.25)


def test_outcomes_land_in_the_sqlite_store(
    sdk: TierwiseClient,
    cascade_server: TierwiseServer,  # noqa: F811
) -> None:
    fakes = Fakes({"self-hosted": 0.2, "haiku": 0.9})
    result = sdk.cascade(EASY, call_tier=fakes.call, score=fakes.score, caller="svc", feature="qa")
    assert sdk.outcome_reporter().flush(5.0)
    writer = cascade_server.recorder.writer
    assert writer is not None and writer.flush(5.0)
    assert sdk.outcome_reporter().sent == 1
    store_url = cascade_server.settings.outcome_store
    assert store_url is not None
    store = open_store(store_url)
    try:
        stored = store.outcomes_since(0.0)
    finally:
        store.close()
    [row] = [s for s in stored if s.outcome.decision_id == result.decision.decision_id]
    assert [(a.tier, a.score, a.accepted) for a in row.outcome.attempts] == [
        ("self-hosted", 0.2, False),
        ("haiku", 0.9, True),
    ]
    assert row.outcome.final_tier == "haiku" and row.outcome.caller == "svc"
    assert row.decision is not None and row.decision.query_text == EASY
    assert row.decision.plan_tiers == tuple(ORDER)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_that_is_down_never_fails_the_cascade() -> None:
    with TierwiseClient(f"127.0.0.1:{_closed_port()}") as client:
        fakes = Fakes({"haiku": 0.3, "sonnet": 0.9, "opus": 1.0})
        started = time.monotonic()
        result = client.cascade(
            EASY,
            call_tier=fakes.call,
            score=fakes.score,
            fallback_tiers=("haiku", "sonnet", "opus"),
            fallback_threshold=0.5,
        )
        assert fakes.calls == ["haiku", "sonnet"] and result.tier == "sonnet"
        assert result.decision.fail_open and result.accepted
        # Reports to a server that is down are dropped in the background, never raised.
        reporter = client.outcome_reporter()
        from tierwise.v1 import outcomes_pb2

        assert reporter.offer(outcomes_pb2.Outcome(decision_id="x"))
        assert reporter.flush(5.0) and reporter.dropped == 1
        assert time.monotonic() - started < 5.0
    with (
        TierwiseClient(f"127.0.0.1:{_closed_port()}") as client,
        pytest.raises(UnavailableError),
    ):
        client.cascade(EASY, call_tier=fakes.call, score=fakes.score)  # no fallback named


def test_async_cascade(cascade_server: TierwiseServer) -> None:  # noqa: F811
    async def main() -> tuple[list[str], Any]:
        calls: list[str] = []

        async def call(tier: str, query: Any) -> str:
            calls.append(tier)
            await asyncio.sleep(0)
            return tier

        async def score(query: Any, answer: Any, tier: str) -> float:
            return {"self-hosted": 0.1, "haiku": 0.75}.get(tier, 0.0)

        async with AsyncTierwiseClient(f"127.0.0.1:{cascade_server.port}") as client:
            result = await client.cascade(EASY, call_tier=call, score=score)
            slow = await client.cascade(
                EASY, call_tier=lambda t, q: asyncio.sleep(1.0), score=score, deadline_s=0.2
            )
            assert slow.stop_reason == "deadline" and slow.attempts[0].error == "call: deadline"
        return calls, result

    calls, result = asyncio.run(main())
    assert calls == ["self-hosted", "haiku"] and result.tier == "haiku" and result.accepted
