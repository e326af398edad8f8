"""PricingService: a thin servicer over the cost_tables domain."""

from __future__ import annotations

import grpc

from tierwise.cost_tables.quote import quote_request
from tierwise.cost_tables.tables import TierTable
from tierwise.cost_tables.workload import quote_workload
from tierwise.server.errors import InvalidRequestError
from tierwise.server.rpc import pricing_messages
from tierwise.server.rpc.cascade_pricing import add_cascade_quote
from tierwise.server.rpc.pricing_limits import check_workload_budget
from tierwise.server.rpc.status import rpc_errors
from tierwise.v1 import pricing_pb2, pricing_pb2_grpc


class PricingService(pricing_pb2_grpc.PricingServiceServicer):
    def __init__(
        self, table: TierTable, *, max_price_evaluations: int, max_histogram_buckets: int
    ) -> None:
        self._table = table
        self._max_price_evaluations = max_price_evaluations
        self._max_histogram_buckets = max_histogram_buckets

    def Quote(
        self, request: pricing_pb2.QuoteRequest, context: grpc.ServicerContext
    ) -> pricing_pb2.QuoteResponse:
        with rpc_errors(context):
            if not request.HasField("usage"):
                raise InvalidRequestError("usage", "required")
            usage = pricing_messages.usage_from_message(request.usage)
            tiers = [self._table.get(request.tier)] if request.tier else self._table.tiers
            quotes = [quote_request(tier, usage) for tier in tiers]
            return pricing_pb2.QuoteResponse(
                quotes=[pricing_messages.request_quote_message(q) for q in quotes],
                table_version=self._table.version,
            )

    def QuoteWorkload(
        self, request: pricing_pb2.QuoteWorkloadRequest, context: grpc.ServicerContext
    ) -> pricing_pb2.QuoteWorkloadResponse:
        with rpc_errors(context):
            if not request.HasField("workload"):
                raise InvalidRequestError("workload", "required")
            check_workload_budget(
                self._table,
                request.workload,
                max_price_evaluations=self._max_price_evaluations,
                max_histogram_buckets=self._max_histogram_buckets,
            )
            workload = pricing_messages.workload_from_message(request.workload)
            quote = quote_workload(self._table, workload)
            response = pricing_messages.workload_quote_message(quote)
            add_cascade_quote(self._table, request, response)
            return response

    def ListTiers(
        self, request: pricing_pb2.ListTiersRequest, context: grpc.ServicerContext
    ) -> pricing_pb2.ListTiersResponse:
        with rpc_errors(context):
            return pricing_messages.tier_table_message(self._table)
