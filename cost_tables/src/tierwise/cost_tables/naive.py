"""The popular napkin estimate (DESIGN §4), reproduced step by step, with its errors listed.

The napkin: an instance of n GPUs does one forward pass per (HBM bandwidth of ONE GPU ÷
active weights at 2 bytes); each pass emits one token for each of B sequences (decode) or
processes B·ISL prompt tokens (prefill, assumed memory-bound too); a 72-GPU cluster of such
instances costs 72 × $/GPU-hour. It rounds as it goes (45 passes/s, 46.7M tokens/hour) and
carries the rounded figures forward; we do the same so that its published numbers come out.
"""

from __future__ import annotations

import math
from typing import Literal

from tierwise.cost_tables.catalog import WEIGHT_BYTES, Gpu, Model, Precision
from tierwise.cost_tables.errors import InvalidInputError
from tierwise.cost_tables.estimate_types import Efficiency, HardwareEstimate
from tierwise.cost_tables.moe import experts_touched

NAPKIN_CLUSTER_GPUS = 72  # the napkin prices a 72-GPU cluster (9 instances of 8)
NAPKIN_BYTES_PER_PARAM = 2.0  # "FP16": the napkin uses 2 bytes whatever it is told
SECONDS_PER_HOUR = 3600.0


def _three_significant(x: float) -> float:
    """The napkin's own rounding of tokens/hour (46,656,000 -> 46,700,000)."""
    if x == 0:
        return 0.0
    digits = 3 - math.floor(math.log10(abs(x))) - 1
    return round(x, digits)


def napkin(
    model: Model,
    gpu: Gpu,
    gpus: int,
    precision: Precision,
    isl: int,
    osl: int,
    concurrency: int | Literal["max"],
    usd_per_gpu_hour: float,
    eff: Efficiency,
) -> HardwareEstimate:
    if concurrency == "max":
        raise InvalidInputError(
            "concurrency", "naive mode needs a fixed batch (the napkin assumes one, e.g. 32)"
        )
    batch = concurrency
    bytes_per_param = NAPKIN_BYTES_PER_PARAM if precision == "bf16" else WEIGHT_BYTES[precision]
    active_bytes = model.active_params_b * 1e9 * bytes_per_param
    exact_passes = gpu.hbm_tb_per_s * 1e12 / active_bytes
    passes = float(round(exact_passes))  # "45 passes/s"
    if passes <= 0:
        raise InvalidInputError("gpu", "napkin rounds passes/s to 0; it is meaningless here")
    instances = max(NAPKIN_CLUSTER_GPUS // gpus, 1)
    cluster_gpus = instances * gpus
    cluster_usd_per_hour = cluster_gpus * usd_per_gpu_hour

    out_per_instance = passes * batch
    out_per_hour = _three_significant(out_per_instance * instances * SECONDS_PER_HOUR)
    usd_out = cluster_usd_per_hour / (out_per_hour / 1e6)
    in_per_instance = passes * batch * isl
    in_per_hour = _three_significant(in_per_instance * instances * SECONDS_PER_HOUR)
    usd_in = cluster_usd_per_hour / (in_per_hour / 1e6)

    # Energy is not part of the napkin; we apply its own time model: one pass prefills the
    # whole batch, then OSL passes decode it, all n GPUs busy.
    query_gpu_s = gpus * (1 + osl) / passes / batch
    wh = gpu.watts * query_gpu_s / SECONDS_PER_HOUR

    # --- what the napkin gets wrong, computed rather than asserted ---
    dense_bytes, expert_bytes = model.weight_bytes(precision)
    full_weights = dense_bytes + expert_bytes
    if precision == "bf16":
        full_weights = model.total_params_b * 1e9 * NAPKIN_BYTES_PER_PARAM
    memory = gpus * gpu.memory_gb * 1e9
    napkin_touched = float(model.experts_per_token) if model.is_moe else None
    lines = [
        f"napkin: {gpu.hbm_tb_per_s:g} TB/s / ({model.active_params_b:g}B active x"
        f" {bytes_per_param:g} B = {active_bytes / 1e9:.0f} GB) = {exact_passes:.2f}"
        f" -> '{passes:.0f} passes/s' per instance",
        f"napkin: {passes:.0f} x batch {batch} = {out_per_instance:,.0f} output tok/s per"
        f" instance; {cluster_gpus} GPUs = {instances} instances ->"
        f" {out_per_hour / 1e6:.1f}M tok/h for ${cluster_usd_per_hour:g}/h ="
        f" ${usd_out:.2f}/M output",
        f"napkin: prefill assumed memory-bound too: {passes:.0f} x {batch} x {isl} ="
        f" {in_per_instance:,.0f} input tok/s per instance -> {in_per_hour / 1e9:.1f}B tok/h ="
        f" ${usd_in:.3f}/M input",
        "napkin rounds as it goes (passes/s to an integer, tokens/hour to 3 significant"
        f" figures); unrounded it would say ${usd_per_gpu_hour * gpus / SECONDS_PER_HOUR:.6f}"
        f"/s / {exact_passes * batch:,.1f} tok/s = "
        f"${usd_per_gpu_hour * gpus / (exact_passes * batch * SECONDS_PER_HOUR) * 1e6:.2f}/M"
        " output",
        f"error: {passes:.0f} passes/s is ONE GPU's bandwidth; {gpus} GPUs stream"
        f" {gpus}x = {gpus * gpu.hbm_tb_per_s:g} TB/s ->"
        f" {exact_passes * gpus:.0f} passes/s of the active weights",
    ]
    if model.is_moe:
        touched = experts_touched(model.experts, model.experts_per_token, batch)
        read = model.dense_params_b * 1e9 + model.expert_params_b * 1e9 * touched / model.experts
        lines.append(
            f"error: at batch {batch} the MoE touches {touched:.0f} of {model.experts} experts"
            f" per layer, not {model.experts_per_token}: a pass reads"
            f" {read * bytes_per_param / 1e9:.0f} GB, not {active_bytes / 1e9:.0f} GB"
        )
    if full_weights > memory:
        lines.append(
            f"error: the fit check is skipped: {model.id} at {precision} is"
            f" {full_weights / 1e9:.0f} GB of weights > {memory / 1e9:.0f} GB on {gpus}x"
            f" {gpu.id}: it does not fit at all"
        )
    else:
        lines.append(
            f"note: fit check skipped by the napkin; here {full_weights / 1e9:.0f} GB of"
            f" weights would fit in {memory / 1e9:.0f} GB"
        )
    floors = []
    for p in ("bf16", "fp8"):
        rate = gpu.bf16_tflops if p == "bf16" else gpu.fp8_tflops
        if rate > 0:
            tok_s = rate * 1e12 / (2 * model.active_params_b * 1e9)
            floors.append(f"${usd_per_gpu_hour / (tok_s * SECONDS_PER_HOUR) * 1e6:.3f}/M at {p}")
    lines.append(
        f"error: prefill is compute-bound: 2 x {model.active_params_b:g}B FLOPs per input"
        f" token at 100% MFU puts the input floor at {' / '.join(floors)}; the napkin's"
        f" ${usd_in:.3f}/M is below it"
    )
    return HardwareEstimate(
        mode="naive",
        model_id=model.id,
        gpu_id=gpu.id,
        gpus=gpus,
        precision=precision,
        isl=isl,
        osl=osl,
        batch=batch,
        max_batch_that_fits=None,
        output_tokens_per_s_per_gpu=out_per_instance / gpus,
        input_tokens_per_s_per_gpu=in_per_instance / gpus,
        tokens_per_s_per_user=passes,
        usd_per_mtok_input=usd_in,
        usd_per_mtok_output=usd_out,
        wh_per_query=wh,
        decode_step_s=1 / passes,
        prefill_s_per_query=1 / passes,
        ttft_ms=2e3 / passes,
        prefill_gpu_s_per_token=gpus / (passes * batch * isl),
        decode_gpu_s_per_token=gpus / (passes * batch),
        weights_gb=active_bytes / 1e9,
        kv_gb=0.0,
        memory_gb=memory / 1e9,
        experts_touched_per_layer=napkin_touched,
        bound="memory",
        usd_per_gpu_hour=usd_per_gpu_hour,
        watts_per_gpu=gpu.watts,
        explanation=tuple(lines),
    )
