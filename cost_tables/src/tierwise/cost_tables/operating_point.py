"""Where a self-hosted deployment runs: the batch that meets a latency SLO, and the time to
first token users see there.

The roofline (hardware.py) prices one batch size. Serving engines trade throughput for speed
per user by capping the running batch: the largest batch whose tokens/s per user and TTFT
still meet the SLO is the cheapest one that does, because throughput per GPU only grows with
the batch. This module searches that batch and adds what the roofline leaves out of TTFT:

- **Chunked prefill.** A new request's prompt is processed in chunks of at most
  ``prefill_chunk_tokens`` that ride along with the running batch's decode steps, so its
  first token waits for its own prefill plus one decode step per chunk.
- **Queueing for a slot.** At ``target_load`` (mean share of the batch's slots busy) a new
  request finds every slot taken with the Erlang-C probability of an M/M/c queue with
  c = batch slots, each held for one request's lifetime; waits are exponential with rate
  (c - a) / lifetime. Small batches at high load queue a lot; large ones almost never.

The price is the roofline's at the chosen batch (every slot busy): the marginal $/M. What idle
capacity costs is the workload quote's business (workload.py), not the per-token price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from tierwise.cost_tables.catalog import Catalog, load_catalog
from tierwise.cost_tables.errors import CostTableError, InvalidInputError
from tierwise.cost_tables.estimate_types import Efficiency, HardwareEstimate
from tierwise.cost_tables.hardware import estimate

# A loaded but not saturated service: 30 % headroom absorbs bursts within the hour.
DEFAULT_TARGET_LOAD: Final = 0.7
# vLLM V1 and TensorRT-LLM default token budget per engine step (max_num_batched_tokens /
# max_num_tokens = 8192) for online serving with chunked prefill.
DEFAULT_PREFILL_CHUNK_TOKENS: Final = 8192
MAX_PREFILL_CHUNK_TOKENS: Final = 1_000_000
# Bounds that catch unit mistakes (seconds typed as ms, tokens/s per GPU typed per user).
MAX_SLO_TOKENS_PER_S: Final = 100_000.0
MAX_SLO_TTFT_MS: Final = 3_600_000.0

Binding = Literal["max_batch", "fixed_concurrency", "min_tokens_per_s_per_user", "max_ttft_ms"]


def _check_positive(field: str, value: object, maximum: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= maximum
    ):
        raise InvalidInputError(field, f"must be a number in (0, {maximum:g}] (got {value!r})")
    return float(value)


@dataclass(frozen=True)
class Slo:
    """What users of the deployment are promised; None: no limit. TTFT is bounded at p90."""

    min_tokens_per_s_per_user: float | None = None
    max_ttft_ms: float | None = None

    def __post_init__(self) -> None:
        if self.min_tokens_per_s_per_user is not None:
            _check_positive(
                "min_tokens_per_s_per_user", self.min_tokens_per_s_per_user, MAX_SLO_TOKENS_PER_S
            )
        if self.max_ttft_ms is not None:
            _check_positive("max_ttft_ms", self.max_ttft_ms, MAX_SLO_TTFT_MS)

    def any(self) -> bool:
        return self.min_tokens_per_s_per_user is not None or self.max_ttft_ms is not None

    def describe(self) -> str:
        parts = []
        if self.min_tokens_per_s_per_user is not None:
            parts.append(f">= {self.min_tokens_per_s_per_user:g} tok/s per user")
        if self.max_ttft_ms is not None:
            parts.append(f"p90 TTFT <= {self.max_ttft_ms:g} ms")
        return ", ".join(parts) if parts else "none (max throughput)"


NO_SLO: Final = Slo()


@dataclass(frozen=True)
class TtftEstimate:
    """Time to first token at one operating point, and its parts."""

    prefill_ms: float  # the request's own prefill, its chunks sharing steps with decode
    wait_probability: float  # Erlang C: share of requests that find every slot busy
    queue_ms_p50: float
    queue_ms_p90: float
    queue_ms_mean: float

    @property
    def p50_ms(self) -> float:
        return self.prefill_ms + self.queue_ms_p50

    @property
    def p90_ms(self) -> float:
        return self.prefill_ms + self.queue_ms_p90


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arrival waits in an M/M/c queue (c = ``servers``, a = offered Erlangs).

    Erlang B by its stable recursion B(k) = a·B(k-1) / (k + a·B(k-1)), then
    C = B / (1 - ρ(1 - B)) with ρ = a / c; 1 when the queue is unstable (a >= c).
    """
    if offered_load <= 0:
        return 0.0
    if offered_load >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1.0 - rho * (1.0 - blocking))


def _wait_quantile(probability_wait: float, rate: float, quantile: float) -> float:
    """Quantile of the M/M/c wait: P(W > t) = C·exp(-rate·t)."""
    tail = 1.0 - quantile
    if probability_wait <= tail:
        return 0.0
    return math.log(probability_wait / tail) / rate


def ttft(est: HardwareEstimate, target_load: float, prefill_chunk_tokens: int) -> TtftEstimate:
    """TTFT of a request on deployment ``est`` (its batch = slots) at ``target_load``."""
    chunks = math.ceil(est.isl / prefill_chunk_tokens)
    prefill_s = est.prefill_s_per_query + chunks * est.decode_step_s
    # A slot is held from admission to the last token.
    lifetime_s = prefill_s + est.osl / est.tokens_per_s_per_user
    slots = est.batch
    offered = target_load * slots
    waits = erlang_c(slots, offered)
    rate = (slots - offered) / lifetime_s
    return TtftEstimate(
        prefill_ms=prefill_s * 1e3,
        wait_probability=waits,
        queue_ms_p50=_wait_quantile(waits, rate, 0.5) * 1e3,
        queue_ms_p90=_wait_quantile(waits, rate, 0.9) * 1e3,
        queue_ms_mean=waits / rate * 1e3,
    )


@dataclass(frozen=True)
class OperatingPoint:
    """A deployment at the batch that meets its SLO, priced and timed there."""

    estimate: HardwareEstimate
    slo: Slo
    target_load: float
    prefill_chunk_tokens: int
    ttft: TtftEstimate
    # What stopped the batch from growing: the SLO field that binds, or the batch limit
    # (memory / scheduler cap) when the SLO leaves room up to it.
    binding: Binding
    # The largest batch memory and the scheduler allow (the max-throughput point).
    max_batch: int

    @property
    def ttft_ms(self) -> float:
        return self.ttft.p50_ms

    @property
    def ttft_ms_p90(self) -> float:
        return self.ttft.p90_ms

    def explanation(self) -> tuple[str, ...]:
        e, t = self.estimate, self.ttft
        why = {
            "max_batch": f"the batch limit {self.max_batch} (the SLO allows more)",
            "min_tokens_per_s_per_user": "the tokens/s-per-user floor (one more sequence"
            " would slow every user below it)",
            "max_ttft_ms": "the p90 TTFT limit",
            "fixed_concurrency": "the configured concurrency",
        }[self.binding]
        return (
            f"operating point: SLO {self.slo.describe()}; batch {e.batch} of at most"
            f" {self.max_batch}, bound by {why}",
            f"TTFT: prefill {t.prefill_ms:.0f} ms ({math.ceil(e.isl / self.prefill_chunk_tokens)}"
            f" chunk(s) of <= {self.prefill_chunk_tokens} tokens, each sharing a"
            f" {e.decode_step_s * 1e3:.1f} ms decode step) + queue for a slot at"
            f" {self.target_load:.0%} load: P(wait) {t.wait_probability:.3f}, p50"
            f" {t.queue_ms_p50:.0f} ms, p90 {t.queue_ms_p90:.0f} ms ->"
            f" p50 {t.p50_ms:.0f} ms, p90 {t.p90_ms:.0f} ms",
            *e.explanation,
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the estimate's fields, TTFT replaced by the queueing-aware figures."""
        out = self.estimate.as_dict()
        out["ttft_ms"] = self.ttft.p50_ms
        out["ttft_ms_p90"] = self.ttft.p90_ms
        out["ttft_prefill_ms"] = self.ttft.prefill_ms
        out["ttft_queue_ms_p50"] = self.ttft.queue_ms_p50
        out["ttft_queue_ms_p90"] = self.ttft.queue_ms_p90
        out["slot_wait_probability"] = self.ttft.wait_probability
        out["slo_min_tokens_per_s_per_user"] = self.slo.min_tokens_per_s_per_user
        out["slo_max_ttft_ms"] = self.slo.max_ttft_ms
        out["target_load"] = self.target_load
        out["prefill_chunk_tokens"] = self.prefill_chunk_tokens
        out["binding"] = self.binding
        out["max_batch"] = self.max_batch
        out["explanation"] = list(self.explanation())
        return out


class SloUnreachableError(CostTableError):
    """No batch of the deployment meets the SLO (even a single sequence is too slow)."""

    def __init__(self, deployment: str, slo: Slo, best: OperatingPoint) -> None:
        self.slo = slo
        self.best = best
        e = best.estimate
        super().__init__(
            f"{deployment}: no batch meets the SLO ({slo.describe()}); the fastest point,"
            f" batch {e.batch}, gives {e.tokens_per_s_per_user:.1f} tok/s per user and p90"
            f" TTFT {best.ttft_ms_p90:.0f} ms. Use faster or more GPUs (tensor parallelism),"
            " a lower precision, or a looser SLO"
        )


@dataclass(frozen=True)
class Deployment:
    """What the roofline needs besides the batch."""

    model_id: str
    gpu_id: str
    gpus: int
    precision: str
    isl: int
    osl: int
    usd_per_gpu_hour: float | None = None
    efficiency: Efficiency | None = None

    def describe(self) -> str:
        return (
            f"{self.model_id} {self.precision} on {self.gpus}x {self.gpu_id}"
            f" (ISL/OSL {self.isl}/{self.osl})"
        )


def _check_load(target_load: object, prefill_chunk_tokens: object) -> tuple[float, int]:
    if (
        isinstance(target_load, bool)
        or not isinstance(target_load, int | float)
        or not 0 < target_load < 1
    ):
        raise InvalidInputError(
            "target_load",
            f"must be a fraction in (0, 1): a saturated queue never drains (got {target_load!r})",
        )
    if (
        isinstance(prefill_chunk_tokens, bool)
        or not isinstance(prefill_chunk_tokens, int)
        or not 1 <= prefill_chunk_tokens <= MAX_PREFILL_CHUNK_TOKENS
    ):
        raise InvalidInputError(
            "prefill_chunk_tokens",
            f"must be an integer in [1, {MAX_PREFILL_CHUNK_TOKENS}] (got {prefill_chunk_tokens!r})",
        )
    return float(target_load), prefill_chunk_tokens


class _Evaluator:
    """Roofline + TTFT at one batch, for one deployment."""

    def __init__(
        self, d: Deployment, target_load: float, chunk: int, catalog: Catalog, slo: Slo
    ) -> None:
        self.d, self.load, self.chunk, self.catalog, self.slo = d, target_load, chunk, catalog, slo
        self.max_batch = self._roofline("max").batch

    def _roofline(self, concurrency: int | Literal["max"]) -> HardwareEstimate:
        return estimate(
            self.d.model_id,
            self.d.gpu_id,
            self.d.gpus,
            self.d.precision,
            self.d.isl,
            self.d.osl,
            concurrency=concurrency,
            usd_per_gpu_hour=self.d.usd_per_gpu_hour,
            efficiency=self.d.efficiency,
            catalog=self.catalog,
        )

    def at(self, batch: int) -> OperatingPoint:
        # At the limit, the roofline's own "max" wording explains where the batch comes from.
        est = self._roofline("max" if batch == self.max_batch else batch)
        return OperatingPoint(
            estimate=est,
            slo=self.slo,
            target_load=self.load,
            prefill_chunk_tokens=self.chunk,
            ttft=ttft(est, self.load, self.chunk),
            binding="max_batch",
            max_batch=self.max_batch,
        )

    def misses(self, point: OperatingPoint) -> Binding | None:
        floor = self.slo.min_tokens_per_s_per_user
        if floor is not None and point.estimate.tokens_per_s_per_user < floor:
            return "min_tokens_per_s_per_user"
        limit = self.slo.max_ttft_ms
        if limit is not None and point.ttft_ms_p90 > limit:
            return "max_ttft_ms"
        return None


def operating_point(
    deployment: Deployment,
    slo: Slo = NO_SLO,
    target_load: float = DEFAULT_TARGET_LOAD,
    prefill_chunk_tokens: int = DEFAULT_PREFILL_CHUNK_TOKENS,
    catalog: Catalog | None = None,
) -> OperatingPoint:
    """The highest-throughput batch meeting ``slo`` (no SLO: the max-throughput batch).

    Every batch from 1 to the limit is evaluated (the roofline costs microseconds): speed per
    user falls with the batch, but TTFT need not rise monotonically — queueing shrinks as
    slots are pooled — so a bisection could miss the best feasible batch.
    Raises SloUnreachableError when no batch meets the SLO.
    """
    load, chunk = _check_load(target_load, prefill_chunk_tokens)
    ev = _Evaluator(deployment, load, chunk, catalog or load_catalog(), slo)
    top = ev.at(ev.max_batch)
    if not slo.any() or ev.misses(top) is None:
        return top
    best: OperatingPoint | None = None
    fastest = top
    for batch in range(1, ev.max_batch):
        point = ev.at(batch)
        if point.estimate.tokens_per_s_per_user > fastest.estimate.tokens_per_s_per_user:
            fastest = point
        faster = best is None or (
            point.estimate.output_tokens_per_s_per_gpu > best.estimate.output_tokens_per_s_per_gpu
        )
        if faster and ev.misses(point) is None:
            best = point
    if best is None:
        raise SloUnreachableError(deployment.describe(), slo, fastest)
    # The constraint the next larger batch breaks (a larger feasible batch with less
    # throughput can exist only through TTFT's non-monotonic queueing term).
    binding = ev.misses(ev.at(best.estimate.batch + 1)) or "max_ttft_ms"
    return OperatingPoint(
        estimate=best.estimate,
        slo=slo,
        target_load=load,
        prefill_chunk_tokens=chunk,
        ttft=best.ttft,
        binding=binding,
        max_batch=ev.max_batch,
    )


def fixed_point(
    deployment: Deployment,
    concurrency: int | Literal["max"],
    target_load: float = DEFAULT_TARGET_LOAD,
    prefill_chunk_tokens: int = DEFAULT_PREFILL_CHUNK_TOKENS,
    catalog: Catalog | None = None,
) -> OperatingPoint:
    """The deployment at a given concurrency ("max": the largest batch), no SLO."""
    load, chunk = _check_load(target_load, prefill_chunk_tokens)
    ev = _Evaluator(deployment, load, chunk, catalog or load_catalog(), NO_SLO)
    if concurrency == "max":
        return ev.at(ev.max_batch)
    point = ev.at(concurrency)
    return OperatingPoint(
        estimate=point.estimate,
        slo=NO_SLO,
        target_load=load,
        prefill_chunk_tokens=chunk,
        ttft=point.ttft,
        binding="fixed_concurrency",
        max_batch=ev.max_batch,
    )


def curve(
    deployment: Deployment,
    target_load: float = DEFAULT_TARGET_LOAD,
    prefill_chunk_tokens: int = DEFAULT_PREFILL_CHUNK_TOKENS,
    catalog: Catalog | None = None,
    batches: tuple[int, ...] | None = None,
) -> tuple[OperatingPoint, ...]:
    """The cost–interactivity curve: one point per batch (default: powers of two up to the
    limit, and the limit itself), fastest per user first."""
    load, chunk = _check_load(target_load, prefill_chunk_tokens)
    ev = _Evaluator(deployment, load, chunk, catalog or load_catalog(), NO_SLO)
    if batches is None:
        sizes = {2**k for k in range(0, 32) if 2**k < ev.max_batch} | {ev.max_batch}
    else:
        sizes = set(batches)
        if not sizes or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in sizes):
            raise InvalidInputError("batches", f"must be whole numbers >= 1 (got {batches!r})")
        too_big = [b for b in sizes if b > ev.max_batch]
        if too_big:
            raise InvalidInputError(
                "batches", f"{max(too_big)} exceeds the largest batch that fits, {ev.max_batch}"
            )
    return tuple(ev.at(b) for b in sorted(sizes))
