"""Hardware-derived throughput and $/M tokens: a decode/prefill roofline (and the naive napkin).

Decode step (DESIGN §4):
    step = max(bytes / (n·BW·MBU), FLOPs / (n·F·MFU_decode)) + per-step overhead
    bytes = dense weights + expert weights · touched(B)/E + B · KV bytes(ctx)
    touched(B) = E · (1 − (1 − k/E)^B)   distinct experts per layer at batch B
Prefill is compute-bound: 2·N_active·ISL FLOPs + causal attention, at MFU_prefill; attention
(prefill and decode) runs at the BF16 tensor rate (flash-attention kernels).
MoE models on several GPUs are attention-DP + EP: each GPU holds and streams the whole dense
part and its own sequences' KV, so long contexts fit fewer sequences than pooled memory would.
GPU time per query = prefill GPU-s + decode GPU-s (the query's 1/B share of each of OSL steps
on n GPUs); input is priced from the first, output from the second.
"""

from __future__ import annotations

import math
from typing import Literal

from tierwise.cost_tables.catalog import (
    Catalog,
    Gpu,
    Model,
    Precision,
    check_precision,
    load_catalog,
)
from tierwise.cost_tables.errors import (
    DeploymentDoesNotFitError,
    InvalidInputError,
    UnknownIdError,
)
from tierwise.cost_tables.estimate_types import (
    DEFAULT_EFFICIENCY,
    Efficiency,
    HardwareEstimate,
)
from tierwise.cost_tables.moe import experts_touched
from tierwise.cost_tables.naive import napkin

# Guards against typos, not physics: larger values are almost certainly mistakes.
MAX_GPUS_PER_INSTANCE = 72  # one GB200 NVL72 rack is the largest NVLink domain sold
MAX_SEQUENCE_TOKENS = 10_000_000
MAX_FIXED_CONCURRENCY = 100_000
SECONDS_PER_HOUR = 3600.0


def _check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, f"must be an integer (got {value!r})")
    if value < low:
        raise InvalidInputError(field, f"must be >= {low} (got {value})")
    if value > high:
        raise InvalidInputError(field, f"must be <= {high} (got {value})")
    return value


def _check_efficiency(eff: Efficiency) -> None:
    for name in ("mbu", "mfu_prefill", "mfu_decode", "usable_memory_fraction"):
        value = getattr(eff, name)
        if not (isinstance(value, int | float) and 0 < value <= 1):
            raise InvalidInputError(f"efficiency.{name}", f"must be in (0, 1] (got {value!r})")
    if not (isinstance(eff.step_overhead_s, int | float) and 0 <= eff.step_overhead_s < 1):
        raise InvalidInputError(
            "efficiency.step_overhead_s", f"must be in [0, 1) s (got {eff.step_overhead_s!r})"
        )
    _check_int("efficiency.max_batch_per_scheduler", eff.max_batch_per_scheduler, 1, 1_000_000)
    _check_int("efficiency.moe_tile_tokens", eff.moe_tile_tokens, 1, 4096)


def _fit_suggestion(
    model: Model, gpu: Gpu, gpus: int, precision: Precision, ctx: int, eff: Efficiency
) -> str:
    """Say what would fit instead: more GPUs at this precision, or a lower precision."""
    options: list[str] = []
    need_one = sum(model.weight_bytes(precision)) + model.kv_bytes_per_sequence(ctx, precision)
    per_gpu = gpu.memory_gb * 1e9 * eff.usable_memory_fraction
    more = math.ceil(need_one / per_gpu)
    if more <= MAX_GPUS_PER_INSTANCE:
        options.append(f"at least {more}x {gpu.id} at {precision}")
    for lower in ("fp8", "fp4"):
        if lower == precision or lower not in model.supported_precisions:
            continue
        low: Precision = "fp8" if lower == "fp8" else "fp4"
        if gpu.tflops(low) <= 0:
            continue
        need = sum(model.weight_bytes(low)) + model.kv_bytes_per_sequence(ctx, low)
        if need <= per_gpu * gpus and sum(model.weight_bytes(low)) < sum(
            model.weight_bytes(precision)
        ):
            options.append(f"{low} on {gpus}x {gpu.id}")
            break
    if not options:
        return "no configuration of this GPU fits; use a GPU with more memory"
    return "would fit: " + ", or ".join(options)


def _expert_tflops(model: Model, gpu: Gpu, precision: Precision) -> float:
    """Tensor rate of the expert GEMMs.

    Natively sub-8-bit experts (gpt-oss MXFP4) on a GPU without FP4 tensor cores (Hopper) are
    dequantised inside the GEMM and multiplied in BF16 (W4A16), whatever the deployment's
    nominal precision: the weights stay small but the math runs at the BF16 rate.
    """
    bits = model.expert_weight_bits
    if bits is not None and bits < 8 and gpu.fp4_tflops <= 0:
        return gpu.bf16_tflops
    return gpu.tflops(precision)


def attention_data_parallel(model: Model, gpus: int) -> bool:
    """MoE models on several GPUs are served attention-DP + expert-parallel ("DEP").

    Every TensorRT-LLM perf-overview MoE configuration sets ``enable_attention_dp``: each
    rank runs attention (and the rest of the dense part) on its own sequences with its own
    replica of those weights, and only the routed experts are sharded. Dense models are TP.
    """
    return model.is_moe and gpus > 1


def _kv_precision(model: Model, gpu: Gpu, precision: Precision) -> Precision:
    """KV-cache precision: BF16 where the model's attention kernel has no FP8-KV Hopper path."""
    if model.kv_bf16_without_fp4_gpu and gpu.fp4_tflops <= 0 and precision != "bf16":
        return "bf16"
    return precision


def _decode_flops(
    model: Model, batch: int, ctx: float, eff: Efficiency
) -> tuple[float, float, float]:
    """(dense GEMM, attention-score, routed-expert) FLOPs of one decode step at ``batch``."""
    dense = 2.0 * model.dense_active_params_b * 1e9 * batch
    attention = batch * model.attention_flops_per_token(ctx)
    if not model.is_moe:
        return dense, attention, 0.0
    touched = experts_touched(model.experts, model.experts_per_token, batch)
    tokens_per_expert = batch * model.experts_per_token / touched
    # A grouped GEMM pads each expert's rows up to a whole tile of tensor-core work.
    padded = math.ceil(tokens_per_expert / eff.moe_tile_tokens) * eff.moe_tile_tokens
    experts = model.moe_layers * touched * 2.0 * model.params_per_expert * padded
    return dense, attention, experts


def roofline(
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
    n = gpus
    dense_bytes, expert_bytes = model.weight_bytes(precision)
    weights = dense_bytes + expert_bytes
    kv_prec = _kv_precision(model, gpu, precision)
    dp = attention_data_parallel(model, n)
    per_gpu_usable = gpu.memory_gb * 1e9 * eff.usable_memory_fraction
    usable = n * per_gpu_usable
    ctx_max = isl + osl  # the KV a sequence holds when it finishes
    kv_seq_max = model.kv_bytes_per_sequence(ctx_max, kv_prec)
    resident = n * dense_bytes + expert_bytes if dp else weights
    fits_batch = math.floor((usable - resident) / kv_seq_max) if usable > resident else 0
    if dp:
        # Each rank keeps its own sequences' KV next to its own copy of the dense weights.
        fits_batch = n * math.floor((per_gpu_usable - resident / n) / kv_seq_max)
    deployment = f"{model.id} {precision} on {n}x {gpu.id} (ISL/OSL {isl}/{osl})"
    if fits_batch < 1:
        raise DeploymentDoesNotFitError(
            deployment,
            weights / 1e9,
            kv_seq_max / 1e9,
            usable / 1e9,
            _fit_suggestion(model, gpu, n, precision, ctx_max, eff),
        )
    cap = eff.max_batch_per_scheduler
    if concurrency == "max":
        batch = min(fits_batch, cap)
    else:
        batch = concurrency
        if batch > fits_batch:
            raise DeploymentDoesNotFitError(
                f"{deployment} at concurrency {batch}",
                weights / 1e9,
                batch * kv_seq_max / 1e9,
                usable / 1e9,
                f"at most {fits_batch} concurrent sequences fit; lower the concurrency or add GPUs",
            )

    # Decode: average context over the OSL steps is ISL + OSL/2.
    ctx_decode = isl + osl / 2
    touched = experts_touched(model.experts, model.experts_per_token, batch)
    read_expert = expert_bytes * touched / model.experts if model.is_moe else 0.0
    kv_read = batch * model.kv_bytes_per_sequence(ctx_decode, kv_prec)
    step_bytes = dense_bytes + read_expert + kv_read
    # Bytes the busiest GPU streams per step: with attention-DP every rank reads the whole
    # dense part (its replica) plus its share of experts and of the KV.
    gpu_step_bytes = dense_bytes + (read_expert + kv_read) / n if dp else step_bytes / n
    dense_flops, attn_flops, expert_flops = _decode_flops(model, batch, ctx_decode, eff)
    step_flops = dense_flops + attn_flops + expert_flops
    bw = gpu.hbm_tb_per_s * 1e12
    flops_rate = gpu.tflops(precision) * 1e12
    expert_rate = _expert_tflops(model, gpu, precision) * 1e12
    # Flash-attention kernels multiply Q·K and P·V in BF16 whatever the weights' precision
    # (an FP8 KV cache is dequantised on load), so attention runs at the BF16 tensor rate.
    attn_rate = gpu.bf16_tflops * 1e12
    t_mem = gpu_step_bytes / (bw * eff.mbu)
    t_compute = (dense_flops / flops_rate + attn_flops / attn_rate + expert_flops / expert_rate) / (
        n * eff.mfu_decode
    )
    bound: Literal["memory", "compute"] = "memory" if t_mem >= t_compute else "compute"
    step = max(t_mem, t_compute) + eff.step_overhead_s

    # Prefill: causal attention sees on average ISL/2 earlier tokens.
    routed_active = model.active_params_b - model.dense_active_params_b
    prefill_expert = 2.0 * routed_active * 1e9 * isl
    prefill_dense = 2.0 * model.dense_active_params_b * 1e9 * isl
    prefill_attn = isl * model.attention_flops_per_token(isl / 2)
    prefill_flops = prefill_expert + prefill_dense + prefill_attn
    prefill_gpu_s = (
        prefill_dense / flops_rate + prefill_attn / attn_rate + prefill_expert / expert_rate
    ) / eff.mfu_prefill
    decode_gpu_s = osl * step * n / batch
    query_gpu_s = prefill_gpu_s + decode_gpu_s

    out_per_gpu = osl / query_gpu_s
    in_per_gpu = isl / query_gpu_s
    per_user = out_per_gpu * n / batch
    usd_in = usd_per_gpu_hour * prefill_gpu_s / SECONDS_PER_HOUR / isl * 1e6
    usd_out = usd_per_gpu_hour * decode_gpu_s / SECONDS_PER_HOUR / osl * 1e6
    wh = gpu.watts * query_gpu_s / SECONDS_PER_HOUR
    kv_total = batch * kv_seq_max

    naive_passes = gpu.hbm_tb_per_s * 1e12 / (model.active_params_b * 1e9 * 2.0)
    lines = (
        f"deployment: {deployment}; {n}x {gpu.hbm_tb_per_s:g} TB/s,"
        f" {gpu.tflops(precision):g} dense {precision} TFLOP/s, {gpu.memory_gb:g} GB each",
        f"weights: {weights / 1e9:.1f} GB (dense {dense_bytes / 1e9:.1f} GB + experts"
        f" {expert_bytes / 1e9:.1f} GB); {model.native_precision}",
        (
            f"parallelism: attention-DP + expert-parallel over {n} GPUs (each holds the"
            f" {dense_bytes / 1e9:.1f} GB dense part, 1/{n} of the experts); KV {kv_prec}"
            if dp
            else f"parallelism: weights and KV sharded over {n} GPU(s); KV {kv_prec}"
        ),
        f"memory: {usable / 1e9:.0f} GB usable ({eff.usable_memory_fraction:.0%} of HBM);"
        f" KV {kv_seq_max / 1e6:.1f} MB per sequence at ctx {ctx_max} -> {fits_batch}"
        " sequences fit",
        (
            f"batch: {batch} = min(fit {fits_batch}, scheduler cap {cap})"
            if concurrency == "max"
            else f"batch: fixed concurrency {batch} (fits up to {fits_batch})"
        ),
        (
            f"experts: touched(B={batch}) = {model.experts}*(1-(1-{model.experts_per_token}"
            f"/{model.experts})^{batch}) = {touched:.1f} of {model.experts} per layer"
            if model.is_moe
            else "dense model: every step reads all weights"
        ),
        f"decode step bytes: {dense_bytes / 1e9:.1f} GB dense + {read_expert / 1e9:.1f} GB"
        f" experts + {kv_read / 1e9:.1f} GB KV (avg ctx {ctx_decode:g}) ="
        f" {step_bytes / 1e9:.1f} GB -> {t_mem * 1e3:.2f} ms at MBU {eff.mbu:g}",
        f"decode step FLOPs: {step_flops / 1e12:.2f} TFLOP -> {t_compute * 1e3:.2f} ms at MFU"
        f" {eff.mfu_decode:g} (experts at {expert_rate / 1e12:g} TFLOP/s); {bound}-bound;"
        f" + {eff.step_overhead_s * 1e3:g} ms overhead ="
        f" {step * 1e3:.2f} ms/step",
        f"prefill: {prefill_flops / 1e12:.2f} TFLOP per query at MFU {eff.mfu_prefill:g} ->"
        f" {prefill_gpu_s:.4f} GPU-s; decode {decode_gpu_s:.4f} GPU-s per query",
        f"throughput: {out_per_gpu:,.0f} output + {in_per_gpu:,.0f} input tok/s per GPU;"
        f" {per_user:.1f} tok/s per user",
        f"price: ${usd_per_gpu_hour:g}/GPU-h -> ${usd_in:.4f}/M input, ${usd_out:.4f}/M output;"
        f" energy {gpu.watts:g} W x {query_gpu_s:.3f} GPU-s = {wh:.3f} Wh/query",
        f"vs naive: the napkin would say {naive_passes:.0f} passes/s (one GPU's bandwidth over"
        " the active weights at 2 bytes); the roofline uses all n GPUs, the expert weights"
        " actually touched at this batch, the KV reads, a compute ceiling, overheads and"
        " prefill's own FLOPs",
    )
    return HardwareEstimate(
        mode="roofline",
        model_id=model.id,
        gpu_id=gpu.id,
        gpus=n,
        precision=precision,
        isl=isl,
        osl=osl,
        batch=batch,
        max_batch_that_fits=fits_batch,
        output_tokens_per_s_per_gpu=out_per_gpu,
        input_tokens_per_s_per_gpu=in_per_gpu,
        tokens_per_s_per_user=per_user,
        usd_per_mtok_input=usd_in,
        usd_per_mtok_output=usd_out,
        wh_per_query=wh,
        decode_step_s=step,
        prefill_s_per_query=prefill_gpu_s / n,
        ttft_ms=(prefill_gpu_s / n + step) * 1e3,
        prefill_gpu_s_per_token=prefill_gpu_s / isl,
        decode_gpu_s_per_token=decode_gpu_s / osl,
        weights_gb=weights / 1e9,
        kv_gb=kv_total / 1e9,
        memory_gb=usable / 1e9,
        experts_touched_per_layer=touched if model.is_moe else None,
        bound=bound,
        usd_per_gpu_hour=usd_per_gpu_hour,
        watts_per_gpu=gpu.watts,
        explanation=lines,
    )


def estimate(
    model_id: str,
    gpu_id: str,
    gpus: int,
    precision: str,
    isl: int,
    osl: int,
    concurrency: int | Literal["max"] = "max",
    mode: Literal["roofline", "naive"] = "roofline",
    usd_per_gpu_hour: float | None = None,
    efficiency: Efficiency | None = None,
    catalog: Catalog | None = None,
) -> HardwareEstimate:
    """Estimate one deployment. Raises the ``CostTableError`` subclass naming what is wrong."""
    cat = catalog if catalog is not None else load_catalog()
    model = cat.model(model_id)
    gpu = cat.gpu(gpu_id)
    prec = check_precision(model, gpu, precision)
    n = _check_int("gpus", gpus, 1, MAX_GPUS_PER_INSTANCE)
    in_len = _check_int("isl", isl, 1, MAX_SEQUENCE_TOKENS)
    out_len = _check_int("osl", osl, 1, MAX_SEQUENCE_TOKENS)
    if concurrency != "max":
        _check_int("concurrency", concurrency, 1, MAX_FIXED_CONCURRENCY)
    if usd_per_gpu_hour is None:
        price = gpu.usd_per_gpu_hour_on_demand
    elif (
        isinstance(usd_per_gpu_hour, bool)
        or not isinstance(usd_per_gpu_hour, int | float)
        or not math.isfinite(usd_per_gpu_hour)
        or not 0 < usd_per_gpu_hour <= 1000
    ):
        raise InvalidInputError(
            "usd_per_gpu_hour", f"must be a number in (0, 1000] (got {usd_per_gpu_hour!r})"
        )
    else:
        price = float(usd_per_gpu_hour)
    eff = efficiency if efficiency is not None else DEFAULT_EFFICIENCY
    _check_efficiency(eff)
    if mode == "naive":
        return napkin(model, gpu, n, prec, in_len, out_len, concurrency, price, eff)
    if mode != "roofline":
        raise UnknownIdError("mode", str(mode), ("roofline", "naive"))
    return roofline(model, gpu, n, prec, in_len, out_len, concurrency, price, eff)


__all__ = [
    "DEFAULT_EFFICIENCY",
    "Efficiency",
    "HardwareEstimate",
    "estimate",
    "experts_touched",
    "roofline",
]
