"""Calibration anchors and the report that checks the roofline against them.

Run ``python -m tierwise.cost_tables.calibration`` to print the Markdown table that
CALIBRATION.md quotes. Anchors: output tokens/s per GPU at ISL/OSL 1000/1000, max load;
sources NVIDIA TensorRT-LLM perf-overview docs and SemiAnalysis InferenceMAX (via DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass

from tierwise.cost_tables.hardware import estimate

# The band every anchor must fall in (tests/cost_tables/test_hardware.py asserts it).
RATIO_LOW = 0.75
RATIO_HIGH = 1.33


@dataclass(frozen=True)
class Anchor:
    model_id: str
    gpu_id: str
    gpus: int
    precision: str
    measured_output_tokens_per_s_per_gpu: float
    source: str


ANCHORS: tuple[Anchor, ...] = (
    Anchor("llama-3.3-70b", "h100-sxm", 2, "fp8", 2209.0, "TensorRT-LLM perf-overview, TP2"),
    Anchor("gpt-oss-120b", "h100-sxm", 4, "fp8", 4685.0, "InferenceMAX / TRT-LLM, 4x H100"),
    Anchor("gpt-oss-120b", "h200", 1, "fp8", 6868.0, "InferenceMAX / TRT-LLM, 1x H200 TP1"),
    Anchor("deepseek-r1", "h200", 8, "fp8", 1627.0, "TensorRT-LLM perf-overview, 8x H200"),
)
ISL = OSL = 1000


@dataclass(frozen=True)
class AnchorResult:
    anchor: Anchor
    predicted: float
    batch: int
    bound: str

    @property
    def ratio(self) -> float:
        return self.predicted / self.anchor.measured_output_tokens_per_s_per_gpu


def check_anchors() -> tuple[AnchorResult, ...]:
    out = []
    for a in ANCHORS:
        e = estimate(a.model_id, a.gpu_id, a.gpus, a.precision, ISL, OSL)
        out.append(AnchorResult(a, e.output_tokens_per_s_per_gpu, e.batch, e.bound))
    return tuple(out)


def report() -> str:
    lines = [
        "| deployment | predicted tok/s/GPU | measured | ratio | batch | decode bound |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in check_anchors():
        a = r.anchor
        lines.append(
            f"| {a.model_id} {a.precision} on {a.gpus}x {a.gpu_id} | {r.predicted:,.0f} |"
            f" {a.measured_output_tokens_per_s_per_gpu:,.0f} | {r.ratio:.2f} | {r.batch} |"
            f" {r.bound} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
