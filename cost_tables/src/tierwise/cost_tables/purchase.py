"""How self-hosted GPUs are bought: on-demand, reserved (1-year commitment) or spot.

The deployment's own ``usd_per_gpu_hour`` is its on-demand price. Reserved and spot prices
keep the GPU catalog's discount relative to on-demand (catalog reserved / catalog on-demand),
so a deployment that overrides the price (a negotiated rate, another provider) keeps a
consistent discount instead of jumping to the catalog's absolute figure.
"""

from __future__ import annotations

from typing import Literal, get_args

from tierwise.cost_tables.catalog import Gpu, load_catalog
from tierwise.cost_tables.errors import InvalidInputError

PurchaseOption = Literal["on-demand", "reserved", "spot"]
PURCHASE_OPTIONS: tuple[PurchaseOption, ...] = get_args(PurchaseOption)
DEFAULT_PURCHASE: PurchaseOption = "on-demand"

# Spot GPUs are reclaimed at short notice (AWS 2 min, GCP and Azure 30 s) and a replacement
# must boot, pull the image and load 100+ GB of weights before it serves (several minutes),
# while reclaims are correlated (a zone's spare capacity goes at once). To hold the peak at
# the SLO through that, a spot fleet is sized with 20% more capacity than on-demand would
# need. This is our engineering estimate, not a provider figure; it is applied to the
# capacity (before rounding up to whole instances), so it shows in idle capacity too.
SPOT_PREEMPTION_OVERHEAD = 0.20


def check_purchase(value: object) -> PurchaseOption:
    for option in PURCHASE_OPTIONS:
        if value == option:
            return option
    raise InvalidInputError(
        "purchase", f"must be one of {', '.join(PURCHASE_OPTIONS)} (got {value!r})"
    )


def capacity_factor(option: PurchaseOption) -> float:
    """Capacity bought per unit of capacity needed."""
    return 1.0 + SPOT_PREEMPTION_OVERHEAD if option == "spot" else 1.0


def can_autoscale(option: PurchaseOption) -> bool:
    """Reserved GPUs are committed (and paid) for every hour of the month."""
    return option != "reserved"


def _catalog_price(gpu: Gpu, option: PurchaseOption) -> float:
    if option == "reserved":
        return gpu.usd_per_gpu_hour_reserved
    if option == "spot":
        return gpu.usd_per_gpu_hour_spot
    return gpu.usd_per_gpu_hour_on_demand


def usd_per_gpu_hour(
    gpu_id: str, deployment_usd_per_gpu_hour: float, option: PurchaseOption
) -> float | None:
    """The deployment's $/GPU-hour under ``option``; None when the GPU is not in the catalog
    (only its on-demand price is then known)."""
    if option == "on-demand":
        return deployment_usd_per_gpu_hour
    gpus = load_catalog().gpus
    if gpu_id not in gpus:
        return None
    gpu = gpus[gpu_id]
    return (
        deployment_usd_per_gpu_hour * _catalog_price(gpu, option) / _catalog_price(gpu, "on-demand")
    )


__all__ = [
    "DEFAULT_PURCHASE",
    "PURCHASE_OPTIONS",
    "SPOT_PREEMPTION_OVERHEAD",
    "PurchaseOption",
    "can_autoscale",
    "capacity_factor",
    "check_purchase",
    "usd_per_gpu_hour",
]
