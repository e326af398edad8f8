"""QuoteWorkload prices a cascade/hybrid mix: each tier's calls are those reaching it, and
rejected attempts are paid for."""

from __future__ import annotations

import pytest

from tierwise.sdk import InvalidArgumentError, TierwiseClient

CALLS = 1_000_000.0


def _quote(client: TierwiseClient, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.quote_workload(
        calls_per_month=CALLS, input_tokens=500, output_tokens=200, **kwargs
    )


def test_cascade_costs_the_tiers_it_reaches_failed_attempts_included(
    client: TierwiseClient,
) -> None:
    quote = _quote(client, cascade=[("haiku", 0.4), ("sonnet", 0.5), ("opus", 0.0)])
    per_tier = {t.tier: t.usd_per_call for t in quote.tiers}
    cascade = quote.cascade
    assert cascade is not None and cascade.tier == "cascade"
    # 100% reach haiku, 40% sonnet, 20% opus.
    assert cascade.reached_share == pytest.approx({"haiku": 1.0, "sonnet": 0.4, "opus": 0.2})
    assert cascade.attempts_per_call == pytest.approx(1.6)
    expected = CALLS * (per_tier["haiku"] + 0.4 * per_tier["sonnet"] + 0.2 * per_tier["opus"])
    assert cascade.monthly_usd == pytest.approx(expected)
    failed = CALLS * (0.4 * per_tier["haiku"] + 0.5 * 0.4 * per_tier["sonnet"])
    assert cascade.failed_attempts_usd == pytest.approx(failed)
    assert quote.routed is None


def test_hybrid_start_mix(client: TierwiseClient) -> None:
    quote = _quote(
        client,
        cascade=[("haiku", 0.5), ("opus", 0.0)],
        cascade_start_mix={"haiku": 0.6, "opus": 0.4},
    )
    assert quote.cascade is not None and quote.cascade.tier == "hybrid"
    assert quote.cascade.reached_share == pytest.approx({"haiku": 0.6, "opus": 0.7})


def test_bad_cascade_mixes_are_invalid_argument(client: TierwiseClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"cascade.steps\[0\].escalation_rate"):
        _quote(client, cascade=[("haiku", 1.5), ("opus", 0.0)])
    with pytest.raises(InvalidArgumentError, match=r"cascade\.start_mix"):
        _quote(client, cascade=[("haiku", 0.5)], cascade_start_mix={"haiku": 0.5})
    with pytest.raises(InvalidArgumentError, match="gpt-9"):
        _quote(client, cascade=[("gpt-9", 0.5), ("opus", 0.0)])
