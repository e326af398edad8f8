"""Workload.cascade → the cascade's monthly cost in QuoteWorkloadResponse.cascade."""

from __future__ import annotations

from tierwise.cost_tables.cascade_quote import cascade_mix, quote_cascade
from tierwise.cost_tables.tables import TierTable
from tierwise.server.rpc import pricing_messages
from tierwise.v1 import pricing_pb2


def add_cascade_quote(
    table: TierTable,
    request: pricing_pb2.QuoteWorkloadRequest,
    response: pricing_pb2.QuoteWorkloadResponse,
) -> None:
    if not request.workload.HasField("cascade"):
        return
    message = request.workload.cascade
    mix = cascade_mix(
        [(s.tier, s.escalation_rate) for s in message.steps], dict(message.start_mix) or None
    )
    workload = pricing_messages.workload_from_message(request.workload)
    quote = quote_cascade(table, workload, mix)
    cost = pricing_messages.monthly_cost_message(quote.cost)
    cost.failed_attempts_usd = quote.failed_attempts_usd
    cost.attempts_per_call = quote.attempts_per_call
    cost.reached_share.update(quote.reached_share)
    response.cascade.CopyFrom(cost)
