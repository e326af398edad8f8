"""The cost–interactivity curve as a PNG, laid out like InferenceMAX's charts: speed per user
on x, throughput per GPU (left) and $/M output tokens (right) on y.

matplotlib is the optional ``plot`` extra (the server never imports this module).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.operating_point import OperatingPoint


def write_curve_png(points: Sequence[OperatingPoint], title: str, path: Path) -> None:
    """Write the chart; InvalidInputError when matplotlib is missing or the file can't be
    written (so the CLI prints one line instead of a traceback)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on servers and CI
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidInputError(
            "png", "needs matplotlib: pip install 'tierwise-cost-tables[plot]'"
        ) from None
    speed = [p.estimate.tokens_per_s_per_user for p in points]
    per_gpu = [p.estimate.output_tokens_per_s_per_gpu for p in points]
    usd_out = [p.estimate.usd_per_mtok_output for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(speed, per_gpu, marker="o")
    left.set_xlabel("output tokens/s per user (interactivity)")
    left.set_ylabel("output tokens/s per GPU")
    left.grid(True, alpha=0.3)
    for p, x, y in zip(points, speed, per_gpu, strict=True):
        left.annotate(f"B={p.estimate.batch}", (x, y), fontsize=7, xytext=(3, 3),
                      textcoords="offset points")  # fmt: skip
    right.plot(speed, usd_out, marker="o", color="tab:red")
    right.set_yscale("log")
    right.set_xlabel("output tokens/s per user (interactivity)")
    right.set_ylabel("$ per million output tokens")
    right.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as error:
        raise InvalidInputError("png", f"cannot write {path}: {error.strerror}") from None
    finally:
        plt.close(fig)
