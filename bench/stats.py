"""Latency summaries (inputs in seconds, outputs in milliseconds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    if not samples_s:
        return float("nan")
    return float(np.percentile(np.asarray(samples_s, dtype=np.float64), q) * 1000.0)


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile_ms(samples_s, 50),
        "p90": percentile_ms(samples_s, 90),
        "p99": percentile_ms(samples_s, 99),
        "mean": float(np.mean(samples_s) * 1000.0) if samples_s else float("nan"),
    }
