"""Expected cost of one call on an API tier over input × output token distributions, in
O(input buckets) price evaluations instead of O(input × output buckets).

Once a request's prompt is fixed, its bill is linear in its output tokens: the long-context
switch and the cache minimum look at the prompt only, and the batch discount is a fraction
of the whole. So the expectation over the output distribution is the price at 0 output
tokens plus the mean output times the price of one output token, both from quote_request:
the billing rules stay in one place. tests/cost_tables/test_expected_cost.py checks this
against the exact cross-product, so a future rule that breaks linearity shows up there.

Why: the cross-product was ~70 ms of pure Python per 50×50-bucket workload, holding the GIL
against Route's threads; this is ~1 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tierwise.cost_tables.quote import RequestUsage, quote_request
from tierwise.cost_tables.tables import TierPricing


@dataclass(frozen=True)
class ExpectedApiCost:
    """Expected per-call parts (USD) of an API tier."""

    input_usd: float
    output_usd: float
    cache_usd: float
    batch_discount_usd: float


def _usage(tokens_in: int, tokens_out: int, read: int, batch: bool) -> RequestUsage:
    return RequestUsage(tokens_in, tokens_out, cache_read_tokens=read, batch=batch)


def expected_api_cost(
    tier: TierPricing,
    input_buckets: Sequence[tuple[int, float]],
    output_buckets: Sequence[tuple[int, float]],
    *,
    cache_hit_rate: float,
    batch_share: float,
) -> ExpectedApiCost:
    """Expectation of quote_request over the buckets (weights normalised to 1 per side),
    a share `batch_share` of calls sent through the batch API."""
    mean_output = sum(tokens * weight for tokens, weight in output_buckets)
    input_usd = output_usd = cache_usd = discount_usd = 0.0
    for tokens_in, w_in in input_buckets:
        # Cache reads are billed in whole tokens.
        read = round(tokens_in * cache_hit_rate)
        for batch, share in ((False, 1.0 - batch_share), (True, batch_share)):
            if share == 0.0:
                continue
            none = quote_request(tier, _usage(tokens_in, 0, read, batch))
            one = quote_request(tier, _usage(tokens_in, 1, read, batch))
            p = w_in * share
            input_usd += p * none.input_usd
            output_usd += p * mean_output * one.output_usd
            cache_usd += p * (none.cache_read_usd + none.cache_write_usd)
            per_output_discount = one.batch_discount_usd - none.batch_discount_usd
            discount_usd += p * (none.batch_discount_usd + mean_output * per_output_discount)
    return ExpectedApiCost(input_usd, output_usd, cache_usd, discount_usd)
