"""Value types shared by the roofline and naive hardware estimates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Efficiency:
    """How far real serving stacks stay from the hardware roofline. One set for every model.

    Calibrated against the measured anchors in CALIBRATION.md (all within x0.75-x1.33):
    - ``mbu``: achieved fraction of HBM bandwidth in decode. DESIGN §4 quotes 0.33-0.55
      typical; weight streaming in large fused GEMMs sits at the top of that range.
    - ``mfu_prefill``: achieved fraction of dense tensor FLOP/s in prefill (large GEMMs,
      DESIGN §4 quotes 0.25-0.7).
    - ``mfu_decode``: decode GEMMs are skinny (batch rows, not sequence rows) and interleave
      with attention and all-reduces, so they reach far less of peak than prefill.
    - ``step_overhead_s``: fixed cost per decode step (kernel launches, scheduler, sampling,
      TP all-reduce latency) that neither bytes nor FLOPs account for.
    - ``usable_memory_fraction``: share of HBM the engine can give to weights + KV (the rest
      is activations, CUDA graphs, allocator fragmentation; vLLM defaults to 0.9).
    - ``max_batch_per_scheduler``: running sequences one instance keeps in its decode batch at
      "max" concurrency when memory would allow more. Throughput-oriented TRT-LLM/vLLM
      configurations run a few hundred; past that inter-token latency grows linearly for
      little extra throughput. 512 is the calibrated value (256 under-predicts DeepSeek-R1).
    - ``moe_tile_tokens``: grouped-GEMM tile height: an expert that receives fewer tokens in a
      step still costs a full tile of tensor-core work (Hopper wgmma tiles are 64 rows). This
      is architecture, not a fudge factor: it is why sparse MoEs with small experts
      (gpt-oss: 4 of 128) turn compute-bound in decode at batches where a dense model is not.
    """

    mbu: float = 0.5
    mfu_prefill: float = 0.5
    mfu_decode: float = 0.22
    step_overhead_s: float = 0.0015
    usable_memory_fraction: float = 0.9
    max_batch_per_scheduler: int = 512
    moe_tile_tokens: int = 64


DEFAULT_EFFICIENCY = Efficiency()


@dataclass(frozen=True)
class HardwareEstimate:
    """Throughput, price and energy of one deployment at one ISL/OSL and concurrency.

    ``*_per_gpu`` throughputs are end-to-end at the given ISL/OSL (prefill and decode share
    the GPUs, as in the measured anchors); prices split GPU time between prefill (input) and
    decode (output) so that ``isl·$in + osl·$out`` = GPU-hours per query × $/GPU-hour.
    """

    mode: Literal["roofline", "naive"]
    model_id: str
    gpu_id: str
    gpus: int
    precision: str
    isl: int
    osl: int
    batch: int
    max_batch_that_fits: int | None
    output_tokens_per_s_per_gpu: float
    input_tokens_per_s_per_gpu: float
    tokens_per_s_per_user: float
    usd_per_mtok_input: float
    usd_per_mtok_output: float
    wh_per_query: float
    decode_step_s: float
    prefill_s_per_query: float
    # Time to first token at this operating point: the query's own prefill plus the decode
    # step it waits for (one engine step); the latency model refines it.
    ttft_ms: float
    prefill_gpu_s_per_token: float
    decode_gpu_s_per_token: float
    weights_gb: float
    kv_gb: float
    memory_gb: float
    experts_touched_per_layer: float | None
    bound: Literal["memory", "compute"]
    usd_per_gpu_hour: float
    watts_per_gpu: float
    explanation: tuple[str, ...]

    @property
    def wh_per_input_token(self) -> float:
        return self.watts_per_gpu * self.prefill_gpu_s_per_token / 3600

    @property
    def wh_per_output_token(self) -> float:
        return self.watts_per_gpu * self.decode_gpu_s_per_token / 3600

    def as_dict(self) -> dict[str, object]:
        """Plain dict (JSON-ready) of every field, explanation as a list."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out
