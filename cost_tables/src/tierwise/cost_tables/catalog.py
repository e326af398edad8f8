"""GPU and model catalogs (``data/gpus.toml``, ``data/models.toml``), validated on load."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tierwise.cost_tables._toml import Section, packaged_data_path, read_toml
from tierwise.cost_tables.errors import InvalidInputError, TableFileError, UnknownIdError

Precision = Literal["bf16", "fp8", "fp4"]
PRECISIONS: tuple[Precision, ...] = ("bf16", "fp8", "fp4")

# Bytes per weight. FP8 block scales (1 per 128x128) are negligible; NVFP4 stores one FP8
# scale per 16 values, i.e. 4 + 8/16 = 4.5 bits.
WEIGHT_BYTES: dict[Precision, float] = {"bf16": 2.0, "fp8": 1.0, "fp4": 4.5 / 8}
# KV cache stays FP8 in FP4 deployments (FP4 KV is not mainstream in serving stacks).
KV_BYTES: dict[Precision, float] = {"bf16": 2.0, "fp8": 1.0, "fp4": 1.0}


@dataclass(frozen=True)
class GpuProvenance:
    spec_source: str
    price_source: str
    as_of: str


@dataclass(frozen=True)
class Gpu:
    id: str
    display_name: str
    memory_gb: float
    hbm_tb_per_s: float
    bf16_tflops: float
    fp8_tflops: float
    fp4_tflops: float
    watts: float
    usd_per_gpu_hour_on_demand: float
    usd_per_gpu_hour_spot: float
    usd_per_gpu_hour_reserved: float  # 1-year commitment
    provenance: GpuProvenance

    def tflops(self, precision: Precision) -> float:
        """Dense tensor TFLOP/s at ``precision``; 0 means the GPU cannot compute in it."""
        return {"bf16": self.bf16_tflops, "fp8": self.fp8_tflops, "fp4": self.fp4_tflops}[precision]

    def supported_precisions(self) -> tuple[Precision, ...]:
        return tuple(p for p in PRECISIONS if self.tflops(p) > 0)


@dataclass(frozen=True)
class ModelProvenance:
    source: str
    as_of: str


@dataclass(frozen=True)
class Model:
    id: str
    display_name: str
    total_params_b: float
    active_params_b: float
    dense_params_b: float
    expert_params_b: float
    experts: int
    experts_per_token: int
    shared_experts: int
    layers: int
    attention: Literal["gqa", "mla"]
    q_heads: int
    kv_heads: int
    head_dim: int
    mla_kv_lora_rank: int
    mla_rope_dim: int
    sliding_window_layers: int
    sliding_window_tokens: int
    supported_precisions: tuple[Precision, ...]
    expert_weight_bits: float | None
    native_precision: str
    kv_bf16_without_fp4_gpu: bool
    provenance: ModelProvenance

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def params_per_expert(self) -> float:
        """Parameters of one routed expert in one layer (0 for dense models)."""
        if not self.is_moe:
            return 0.0
        return self.expert_params_b * 1e9 / (self.experts * self.moe_layers)

    @property
    def moe_layers(self) -> int:
        """Layers with routed experts, recovered from the parameter counts' own arithmetic.

        DeepSeek-V3 has 3 dense layers before 58 MoE layers; the others are MoE throughout.
        """
        return self.layers - self.leading_dense_layers

    @property
    def leading_dense_layers(self) -> int:
        return 3 if self.attention == "mla" else 0

    @property
    def dense_active_params_b(self) -> float:
        """Active parameters that are not routed experts (attention, shared experts, ...)."""
        if not self.is_moe:
            return self.active_params_b
        routed_active = self.expert_params_b * self.experts_per_token / self.experts
        return max(self.active_params_b - routed_active, 0.0)

    def kv_elements_per_layer_token(self) -> int:
        if self.attention == "mla":
            return self.mla_kv_lora_rank + self.mla_rope_dim
        return 2 * self.kv_heads * self.head_dim

    def kv_token_layers(self, ctx: float) -> float:
        """Sum over layers of the tokens each layer keeps for a sequence of ``ctx`` tokens."""
        full = self.layers - self.sliding_window_layers
        windowed = self.sliding_window_layers * min(ctx, float(self.sliding_window_tokens))
        return full * ctx + windowed

    def kv_bytes_per_sequence(self, ctx: float, precision: Precision) -> float:
        return self.kv_token_layers(ctx) * self.kv_elements_per_layer_token() * KV_BYTES[precision]

    def attention_flops_per_token(self, ctx: float) -> float:
        """Attention-score FLOPs (QK^T and AV) of one new token attending to ``ctx`` tokens.

        GQA: 2 matmuls x 2 FLOPs x heads x head_dim per context token per layer.
        MLA (weight-absorbed, as served): QK over kv_lora_rank + rope_dim, AV over kv_lora_rank.
        """
        if self.attention == "mla":
            per_ctx = 2 * self.q_heads * (2 * self.mla_kv_lora_rank + self.mla_rope_dim)
        else:
            per_ctx = 4 * self.q_heads * self.head_dim
        return per_ctx * self.kv_token_layers(ctx)

    def weight_bytes(self, precision: Precision) -> tuple[float, float]:
        """(dense bytes, routed-expert bytes) when served at ``precision``."""
        per = WEIGHT_BYTES[precision]
        expert_per = per
        if self.expert_weight_bits is not None:
            # Never up-cast a natively low-bit checkpoint (gpt-oss MXFP4 experts).
            expert_per = min(per, self.expert_weight_bits / 8)
        return self.dense_params_b * 1e9 * per, self.expert_params_b * 1e9 * expert_per


@dataclass(frozen=True)
class Catalog:
    gpus: dict[str, Gpu]
    models: dict[str, Model]

    def gpu(self, gpu_id: str) -> Gpu:
        try:
            return self.gpus[gpu_id]
        except KeyError:
            raise UnknownIdError("gpu", gpu_id, sorted(self.gpus)) from None

    def model(self, model_id: str) -> Model:
        try:
            return self.models[model_id]
        except KeyError:
            raise UnknownIdError("model", model_id, sorted(self.models)) from None


def check_precision(model: Model, gpu: Gpu, precision: str) -> Precision:
    """Validate ``precision`` against the known set, the model and the GPU."""
    for known in PRECISIONS:
        if precision == known:
            break
    else:
        raise UnknownIdError("precision", precision, PRECISIONS)
    if known not in model.supported_precisions:
        raise InvalidInputError(
            "precision",
            f"{model.id} is not available in {known}; supported: "
            f"{', '.join(model.supported_precisions)}",
        )
    if gpu.tflops(known) <= 0:
        raise InvalidInputError(
            "precision",
            f"{gpu.id} has no {known} tensor cores (precision not supported); supported: "
            f"{', '.join(gpu.supported_precisions())}",
        )
    return known


def _load_gpus(path: str | Path) -> dict[str, Gpu]:
    shown, data = read_toml(path)
    root = Section(shown, "", data)
    root.string("version")
    gpus: dict[str, Gpu] = {}
    for gpu_id, sec in root.table("gpus").subtables():
        prov = sec.table("provenance")
        gpu = Gpu(
            id=gpu_id,
            display_name=sec.string("display_name"),
            memory_gb=sec.number("memory_gb", positive=True),
            hbm_tb_per_s=sec.number("hbm_tb_per_s", positive=True),
            bf16_tflops=sec.number("bf16_tflops", positive=True),
            fp8_tflops=sec.number("fp8_tflops", minimum=0),
            fp4_tflops=sec.number("fp4_tflops", minimum=0),
            watts=sec.number("watts", positive=True),
            usd_per_gpu_hour_on_demand=sec.number("usd_per_gpu_hour_on_demand", positive=True),
            usd_per_gpu_hour_spot=sec.number("usd_per_gpu_hour_spot", positive=True),
            usd_per_gpu_hour_reserved=sec.number("usd_per_gpu_hour_reserved", positive=True),
            provenance=GpuProvenance(
                spec_source=prov.string("spec_source"),
                price_source=prov.string("price_source"),
                as_of=prov.string("as_of"),
            ),
        )
        prov.finish()
        sec.finish()
        gpus[gpu_id] = gpu
    root.finish()
    return gpus


def _load_models(path: str | Path) -> dict[str, Model]:
    shown, data = read_toml(path)
    root = Section(shown, "", data)
    root.string("version")
    models: dict[str, Model] = {}
    for model_id, sec in root.table("models").subtables():
        attention = sec.string("attention", choices=("gqa", "mla"))
        experts = sec.integer("experts", minimum=0)
        precisions: list[Precision] = []
        for p in sec.string_list("supported_precisions"):
            for known in PRECISIONS:
                if p == known:
                    precisions.append(known)
                    break
            else:
                raise sec.error("supported_precisions", f"unknown precision {p!r}")
        is_gqa = attention == "gqa"
        prov = sec.table("provenance")
        model = Model(
            id=model_id,
            display_name=sec.string("display_name"),
            total_params_b=sec.number("total_params_b", positive=True),
            active_params_b=sec.number("active_params_b", positive=True),
            dense_params_b=sec.number("dense_params_b", positive=True),
            expert_params_b=sec.number("expert_params_b", minimum=0),
            experts=experts,
            experts_per_token=sec.integer("experts_per_token", minimum=0, maximum=max(experts, 0)),
            shared_experts=sec.integer("shared_experts", minimum=0),
            layers=sec.integer("layers", minimum=1),
            attention="gqa" if is_gqa else "mla",
            q_heads=sec.integer("q_heads", minimum=1),
            kv_heads=sec.integer("kv_heads", minimum=1) if is_gqa else 0,
            head_dim=sec.integer("head_dim", minimum=1) if is_gqa else 0,
            mla_kv_lora_rank=0 if is_gqa else sec.integer("mla_kv_lora_rank", minimum=1),
            mla_rope_dim=0 if is_gqa else sec.integer("mla_rope_dim", minimum=0),
            sliding_window_layers=(
                sec.integer("sliding_window_layers", minimum=0)
                if sec.has("sliding_window_layers")
                else 0
            ),
            sliding_window_tokens=(
                sec.integer("sliding_window_tokens", minimum=1)
                if sec.has("sliding_window_tokens")
                else 0
            ),
            supported_precisions=tuple(precisions),
            expert_weight_bits=(
                sec.number("expert_weight_bits", positive=True, maximum=16)
                if sec.has("expert_weight_bits")
                else None
            ),
            native_precision=sec.string("native_precision"),
            kv_bf16_without_fp4_gpu=(
                sec.has("kv_cache_without_fp4_tensor_cores")
                and sec.string("kv_cache_without_fp4_tensor_cores", choices=("bf16",)) == "bf16"
            ),
            provenance=ModelProvenance(source=prov.string("source"), as_of=prov.string("as_of")),
        )
        prov.finish()
        sec.finish()
        _check_model(sec, model)
        models[model_id] = model
    root.finish()
    return models


def _check_model(sec: Section, m: Model) -> None:
    """Cross-field consistency: catches a typo in one number of an otherwise valid entry."""
    if abs(m.dense_params_b + m.expert_params_b - m.total_params_b) > 0.02 * m.total_params_b:
        raise sec.error(
            "total_params_b",
            f"dense_params_b + expert_params_b = {m.dense_params_b + m.expert_params_b:g}"
            f" differs from total_params_b = {m.total_params_b:g} by more than 2%",
        )
    if m.active_params_b > m.total_params_b:
        raise sec.error("active_params_b", "must be <= total_params_b")
    if (m.experts == 0) != (m.expert_params_b == 0) or (m.experts == 0) != (
        m.experts_per_token == 0
    ):
        raise sec.error(
            "experts", "experts, experts_per_token and expert_params_b must all be 0 or all > 0"
        )
    if m.sliding_window_layers > m.layers:
        raise sec.error("sliding_window_layers", "must be <= layers")
    if m.sliding_window_layers and not m.sliding_window_tokens:
        raise sec.error("sliding_window_tokens", "required when sliding_window_layers > 0")


@functools.cache
def _default_catalog() -> Catalog:
    return Catalog(
        gpus=_load_gpus(packaged_data_path("gpus.toml")),
        models=_load_models(packaged_data_path("models.toml")),
    )


def load_catalog(
    gpus_path: str | Path | None = None, models_path: str | Path | None = None
) -> Catalog:
    """The packaged catalogs (parsed once, cached) or the given files."""
    if gpus_path is None and models_path is None:
        return _default_catalog()
    default = _default_catalog()
    return Catalog(
        gpus=_load_gpus(gpus_path) if gpus_path is not None else default.gpus,
        models=_load_models(models_path) if models_path is not None else default.models,
    )


__all__ = [
    "KV_BYTES",
    "PRECISIONS",
    "WEIGHT_BYTES",
    "Catalog",
    "Gpu",
    "Model",
    "Precision",
    "TableFileError",
    "check_precision",
    "load_catalog",
]
