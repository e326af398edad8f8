"""The O(input buckets) expected API cost equals the exact input × output cross-product."""

from __future__ import annotations

import random

import pytest

from tierwise.cost_tables.expected_cost import ExpectedApiCost, expected_api_cost
from tierwise.cost_tables.quote import RequestUsage, quote_request
from tierwise.cost_tables.tables import TierPricing, TierTable, load_tier_table
from tierwise.cost_tables.workload import TokenDistribution


def _cross_product(
    tier: TierPricing,
    inputs: TokenDistribution,
    outputs: TokenDistribution,
    cache_hit_rate: float,
    batch_share: float,
) -> ExpectedApiCost:
    """The reference: every (input, output, batch side) priced by quote_request."""
    parts = [0.0, 0.0, 0.0, 0.0]
    for tokens_in, w_in in inputs.buckets:
        read = round(tokens_in * cache_hit_rate)
        for tokens_out, w_out in outputs.buckets:
            for batch, share in ((False, 1.0 - batch_share), (True, batch_share)):
                if share == 0.0:
                    continue
                usage = RequestUsage(tokens_in, tokens_out, cache_read_tokens=read, batch=batch)
                q = quote_request(tier, usage)
                p = w_in * w_out * share
                parts[0] += p * q.input_usd
                parts[1] += p * q.output_usd
                parts[2] += p * (q.cache_read_usd + q.cache_write_usd)
                parts[3] += p * q.batch_discount_usd
    return ExpectedApiCost(*parts)


def _histogram(rng: random.Random, buckets: int, high: int) -> TokenDistribution:
    tokens = rng.sample(range(0, high), buckets)
    return TokenDistribution(tuple((t, rng.uniform(0.1, 5.0)) for t in tokens))


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_cross_product_on_every_api_tier(seed: int) -> None:
    table: TierTable = load_tier_table()
    rng = random.Random(seed)
    # Prompts on both sides of the long-context threshold and of the cache minimum.
    inputs = _histogram(rng, 30, 400_000)
    inputs = TokenDistribution((*inputs.buckets, (500, 1.0), (1500, 1.0)))
    outputs = _histogram(rng, 25, 20_000)
    cache_hit_rate = rng.choice([0.0, 0.3, 0.9])
    batch_share = rng.choice([0.0, 0.4, 1.0])
    apis = [t for t in table.tiers if t.kind == "api"]
    assert apis
    for tier in apis:
        fast = expected_api_cost(
            tier,
            inputs.buckets,
            outputs.buckets,
            cache_hit_rate=cache_hit_rate,
            batch_share=batch_share,
        )
        exact = _cross_product(tier, inputs, outputs, cache_hit_rate, batch_share)
        for field in ("input_usd", "output_usd", "cache_usd", "batch_discount_usd"):
            assert getattr(fast, field) == pytest.approx(getattr(exact, field), rel=1e-9), field
