"""Tierwise cost tables: API tier prices and hardware-derived self-hosted prices.

Stdlib only; nothing is read from disk on import (tables load on first use).
"""

from tierwise.cost_tables.errors import (
    CostTableError,
    DeploymentDoesNotFitError,
    InvalidInputError,
    TableFileError,
    UnknownIdError,
)
from tierwise.cost_tables.estimate_types import Efficiency, HardwareEstimate
from tierwise.cost_tables.hardware import estimate
from tierwise.cost_tables.quote import RequestQuote, RequestUsage, quote_request
from tierwise.cost_tables.tables import (
    LongContextRule,
    Provenance,
    TierPricing,
    TierTable,
    load_tier_table,
)
from tierwise.cost_tables.workload import (
    BreakEven,
    TierMonthlyCost,
    TokenDistribution,
    Workload,
    WorkloadQuote,
    quote_workload,
)

__all__ = [
    "BreakEven",
    "CostTableError",
    "DeploymentDoesNotFitError",
    "Efficiency",
    "HardwareEstimate",
    "InvalidInputError",
    "LongContextRule",
    "Provenance",
    "RequestQuote",
    "RequestUsage",
    "TableFileError",
    "TierMonthlyCost",
    "TierPricing",
    "TierTable",
    "TokenDistribution",
    "UnknownIdError",
    "Workload",
    "WorkloadQuote",
    "estimate",
    "load_tier_table",
    "quote_request",
    "quote_workload",
]
