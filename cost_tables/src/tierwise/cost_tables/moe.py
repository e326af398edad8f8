"""Mixture-of-experts arithmetic shared by the roofline (hardware.py) and the napkin
(naive.py)."""

from __future__ import annotations


def experts_touched(experts: int, top_k: int, batch: float) -> float:
    """Expected distinct experts a layer loads at batch ``batch`` with uniform routing."""
    if experts == 0:
        return 0.0
    return float(experts * (1.0 - (1.0 - top_k / experts) ** batch))
