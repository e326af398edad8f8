"""QuoteWorkload's cost bound, checked on the message before any pricing runs.

The budget counts input × output histogram bucket pairs for every API tier, again for every
API/self-hosted break-even pair and for each batch side: what pricing cost when it walked
the cross-product (≈5 µs each). It now needs two prices per input bucket instead
(cost_tables/expected_cost.py, ≈25× less for 50×50), so the budget is a conservative
bound; it stays, as the wire contract callers see. A request over it is refused with
INVALID_ARGUMENT naming the limit.
"""

from __future__ import annotations

from tierwise.cost_tables.tables import TierTable
from tierwise.server.errors import InvalidRequestError
from tierwise.v1 import pricing_pb2


def _buckets(distribution: pricing_pb2.TokenDistribution) -> int:
    if distribution.WhichOneof("shape") == "histogram":
        return len(distribution.histogram.buckets)
    return 2  # a fractional mean becomes two buckets


def price_evaluations(table: TierTable, workload: pricing_pb2.Workload) -> int:
    """Price evaluations quote_workload would run for this workload on this table."""
    apis = {t.tier_id for t in table.tiers if t.kind == "api"}
    hosted = len(table.tiers) - len(apis)
    routed_apis = sum(1 for tier, share in workload.routed_mix.items() if tier in apis and share)
    per_pair = len(apis) * (1 + hosted) + routed_apis
    sides = 2 if 0.0 < workload.batch_share < 1.0 else 1
    pairs = _buckets(workload.input_tokens) * _buckets(workload.output_tokens)
    return pairs * sides * per_pair


def check_workload_budget(
    table: TierTable,
    workload: pricing_pb2.Workload,
    *,
    max_price_evaluations: int,
    max_histogram_buckets: int,
) -> None:
    for side in ("input_tokens", "output_tokens"):
        count = _buckets(getattr(workload, side))
        if count > max_histogram_buckets:
            raise InvalidRequestError(
                f"workload.{side}.histogram.buckets",
                f"at most {max_histogram_buckets} buckets (got {count})",
            )
    needed = price_evaluations(table, workload)
    if needed > max_price_evaluations:
        raise InvalidRequestError(
            "workload",
            f"input × output buckets × batch sides × tier prices = {needed} price "
            f"evaluations; the limit is {max_price_evaluations} (use fewer buckets)",
        )
