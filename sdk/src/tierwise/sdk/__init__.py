"""Tierwise SDK: ask which LLM tier should answer a query, and what it costs.

Importing this package stays light: grpc and the generated messages only.
"""

from tierwise.sdk.aio import AsyncTierwiseClient
from tierwise.sdk.cascade import CascadeAttempt, CascadeResult, TierReply
from tierwise.sdk.client import TierwiseClient
from tierwise.sdk.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    TierwiseError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)
from tierwise.sdk.results import (
    BreakEven,
    Decision,
    LatencyConstraints,
    LatencyInfo,
    MonthlyCost,
    Plan,
    PlanStep,
    PolicyInfo,
    Purchase,
    PurchaseComparison,
    QuoteResult,
    RequestQuote,
    Tier,
    TierEstimate,
    TierTable,
    WorkloadQuote,
)
from tierwise.sdk.settings import ClientSettings, TlsSettings

__all__ = [
    "AsyncTierwiseClient",
    "BreakEven",
    "CascadeAttempt",
    "CascadeResult",
    "ClientSettings",
    "DeadlineExceededError",
    "Decision",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "LatencyConstraints",
    "LatencyInfo",
    "MonthlyCost",
    "NotFoundError",
    "PermissionDeniedError",
    "Plan",
    "PlanStep",
    "PolicyInfo",
    "Purchase",
    "PurchaseComparison",
    "QuoteResult",
    "RequestQuote",
    "ResourceExhaustedError",
    "Tier",
    "TierEstimate",
    "TierReply",
    "TierTable",
    "TierwiseClient",
    "TierwiseError",
    "TlsSettings",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "WorkloadQuote",
]
