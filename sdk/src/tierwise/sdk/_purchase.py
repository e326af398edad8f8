"""Purchase options (how self-hosted GPUs are bought) to and from the wire enum."""

from __future__ import annotations

from tierwise.sdk.results import Purchase
from tierwise.v1 import pricing_pb2

PURCHASE_TO_WIRE: dict[Purchase, pricing_pb2.PurchaseOption] = {
    "on-demand": pricing_pb2.PURCHASE_OPTION_ON_DEMAND,
    "reserved": pricing_pb2.PURCHASE_OPTION_RESERVED,
    "spot": pricing_pb2.PURCHASE_OPTION_SPOT,
}
PURCHASE_FROM_WIRE: dict[int, Purchase] = {int(w): p for p, w in PURCHASE_TO_WIRE.items()}
