"""Hardware model: the naive napkin reproduced, roofline calibration anchors, fit refusal."""

from __future__ import annotations

import pytest

from tierwise.cost_tables.calibration import (
    ANCHORS,
    KNOWN_MISSES,
    LONG_CONTEXT_ANCHORS,
    RATIO_HIGH,
    RATIO_LOW,
    Anchor,
    check_anchors,
    report,
)
from tierwise.cost_tables.catalog import load_catalog
from tierwise.cost_tables.errors import (
    DeploymentDoesNotFitError,
    InvalidInputError,
    UnknownIdError,
)
from tierwise.cost_tables.hardware import (
    Efficiency,
    HardwareEstimate,
    estimate,
    experts_touched,
)


def _napkin() -> HardwareEstimate:
    return estimate(
        "deepseek-r1", "h100-sxm", 8, "bf16", 1000, 1000, concurrency=32, mode="naive",
        usd_per_gpu_hour=2.0,
    )  # fmt: skip


def test_naive_reproduces_the_napkin() -> None:
    e = _napkin()
    assert e.mode == "naive"
    assert round(e.tokens_per_s_per_user) == 45  # "45 passes/s"
    assert f"{e.usd_per_mtok_output:.2f}" == "3.08"
    assert f"{e.usd_per_mtok_input:.3f}" == "0.003"
    assert e.weights_gb == pytest.approx(74.0)  # "FP16 74 GB"
    assert e.batch == 32
    assert e.output_tokens_per_s_per_gpu == pytest.approx(45 * 32 / 8)
    text = "\n".join(e.explanation)
    assert "'45 passes/s'" in text
    assert "9 instances" in text
    assert "$3.08/M output" in text


def test_naive_lists_its_errors() -> None:
    text = "\n".join(_napkin().explanation)
    assert "ONE GPU's bandwidth" in text and "8x" in text
    assert "touches 163 of 256 experts" in text
    assert "does not fit" in text and "fit check is skipped" in text
    # Input compute floor at 100% MFU: ~$0.04/M at BF16, ~$0.02/M at FP8 on a $2/h H100.
    assert "$0.042/M at bf16" in text and "$0.021/M at fp8" in text


def test_naive_needs_fixed_batch() -> None:
    with pytest.raises(InvalidInputError) as info:
        estimate("deepseek-r1", "h100-sxm", 8, "bf16", 1000, 1000, mode="naive")
    assert info.value.field == "concurrency"


def test_experts_touched_at_batch_32() -> None:
    assert experts_touched(256, 8, 32) == pytest.approx(163.3, abs=0.1)
    assert experts_touched(256, 8, 1) == pytest.approx(8.0)
    assert experts_touched(0, 0, 32) == 0.0
    # More batch never touches fewer experts, and never more than E.
    values = [experts_touched(128, 4, b) for b in (1, 2, 8, 64, 512, 4096)]
    assert values == sorted(values) and values[-1] <= 128


def _anchor_id(a: Anchor) -> str:
    return f"{a.model_id}-{a.gpus}x{a.gpu_id}-{a.isl}/{a.osl}"


@pytest.mark.parametrize("anchor", ANCHORS + LONG_CONTEXT_ANCHORS, ids=_anchor_id)
def test_roofline_within_calibration_band(anchor: Anchor) -> None:
    e = estimate(
        anchor.model_id, anchor.gpu_id, anchor.gpus, anchor.precision, anchor.isl, anchor.osl
    )
    ratio = e.output_tokens_per_s_per_gpu / anchor.measured_output_tokens_per_s_per_gpu
    assert RATIO_LOW <= ratio <= RATIO_HIGH, f"{anchor}: ratio {ratio:.2f}"
    assert (RATIO_LOW, RATIO_HIGH) == (0.75, 1.33)


def test_long_context_anchors_cover_8k_to_32k_inputs() -> None:
    inputs = {a.isl for a in LONG_CONTEXT_ANCHORS}
    assert {8192, 32768} <= inputs
    assert all(a.source.startswith("TensorRT-LLM perf-overview") for a in LONG_CONTEXT_ANCHORS)
    # Every model that has a 1000/1000 anchor (and Qwen3) has long-context ones too.
    assert {"gpt-oss-120b", "deepseek-r1", "qwen3-235b-a22b", "llama-3.3-70b"} == {
        a.model_id for a in LONG_CONTEXT_ANCHORS
    }


@pytest.mark.parametrize("anchor", KNOWN_MISSES, ids=_anchor_id)
def test_known_misses_stay_no_worse_than_documented(anchor: Anchor) -> None:
    # Before attention-DP and BF16-KV the first two were 2.51 and 2.46 (issue #13); the
    # documented ratios (CALIBRATION.md) are 1.91, 1.59 and 0.73.
    e = estimate(
        anchor.model_id, anchor.gpu_id, anchor.gpus, anchor.precision, anchor.isl, anchor.osl
    )
    ratio = e.output_tokens_per_s_per_gpu / anchor.measured_output_tokens_per_s_per_gpu
    assert 0.7 <= ratio <= 1.95, f"{anchor}: ratio {ratio:.2f}"


def test_calibration_report_matches() -> None:
    text = report()
    for result in check_anchors() + check_anchors(LONG_CONTEXT_ANCHORS):
        assert f"| {result.ratio:.2f} |" in text
    assert len(ANCHORS) == 4
    measured = sorted(a.measured_output_tokens_per_s_per_gpu for a in ANCHORS)
    assert measured == [1627.0, 2209.0, 4685.0, 6868.0]
    assert all((a.isl, a.osl) == (1000, 1000) for a in ANCHORS)


def test_moe_on_several_gpus_replicates_dense_weights() -> None:
    # Attention-DP: every rank holds the dense part, so fewer sequences fit than if the
    # memory were pooled, and a long-context deployment fits fewer than a short one.
    cat = load_catalog()
    r1 = cat.model("deepseek-r1")
    dense, experts = r1.weight_bytes("fp8")
    per_gpu = cat.gpu("h200").memory_gb * 1e9 * 0.9
    kv = r1.kv_bytes_per_sequence(1024 + 32768, "fp8")
    e = estimate("deepseek-r1", "h200", 8, "fp8", 1024, 32768)
    assert e.max_batch_that_fits == 8 * int((per_gpu - dense - experts / 8) // kv)
    assert e.max_batch_that_fits < int((8 * per_gpu - dense - experts) // kv)


def test_gpt_oss_kv_is_bf16_on_hopper_only() -> None:
    hopper = estimate("gpt-oss-120b", "h200", 1, "fp8", 8192, 1024)
    blackwell = estimate("gpt-oss-120b", "b200", 1, "fp8", 8192, 1024)
    m = load_catalog().model("gpt-oss-120b")
    assert hopper.kv_gb == pytest.approx(hopper.batch * m.kv_bytes_per_sequence(9216, "bf16") / 1e9)
    assert blackwell.kv_gb == pytest.approx(
        blackwell.batch * m.kv_bytes_per_sequence(9216, "fp8") / 1e9
    )


def test_roofline_internal_consistency() -> None:
    e = estimate("llama-3.3-70b", "h100-sxm", 2, "fp8", 1000, 1000)
    # Query cost = input + output priced separately = GPU-time x $/GPU-hour.
    per_query_usd = (e.isl * e.usd_per_mtok_input + e.osl * e.usd_per_mtok_output) / 1e6
    gpu_s = e.isl * e.prefill_gpu_s_per_token + e.osl * e.decode_gpu_s_per_token
    assert per_query_usd == pytest.approx(gpu_s * e.usd_per_gpu_hour / 3600)
    assert e.output_tokens_per_s_per_gpu == pytest.approx(e.osl / gpu_s)
    assert e.wh_per_query == pytest.approx(700 * gpu_s / 3600)
    assert e.experts_touched_per_layer is None  # dense
    assert e.weights_gb + e.kv_gb <= e.memory_gb
    assert e.usd_per_gpu_hour == load_catalog().gpu("h100-sxm").usd_per_gpu_hour_on_demand
    # Input (compute-bound prefill) is far cheaper per token than output.
    assert e.usd_per_mtok_input < e.usd_per_mtok_output
    assert any("vs naive" in line for line in e.explanation)


def test_roofline_input_price_respects_compute_floor() -> None:
    e = estimate("deepseek-r1", "h200", 8, "fp8", 1000, 1000, usd_per_gpu_hour=2.0)
    # 100% MFU floor at FP8 is $2/h / (1979e12 / 74e9 tok/s) ~ $0.021/M.
    assert e.usd_per_mtok_input > 0.021


def test_bf16_r1_does_not_fit_8x_h100() -> None:
    with pytest.raises(DeploymentDoesNotFitError) as info:
        estimate("deepseek-r1", "h100-sxm", 8, "bf16", 1000, 1000)
    msg = str(info.value)
    assert "weights 1342.0 GB" in msg and "576.0 GB usable" in msg
    assert "would fit" in msg and "h100-sxm" in msg


def test_fp8_r1_needs_more_than_8x_h100_but_fits_8x_h200() -> None:
    with pytest.raises(DeploymentDoesNotFitError):
        estimate("deepseek-r1", "h100-sxm", 8, "fp8", 1000, 1000)
    assert estimate("deepseek-r1", "h200", 8, "fp8", 1000, 1000).batch > 0


def test_lower_precision_suggested_when_it_fits() -> None:
    with pytest.raises(DeploymentDoesNotFitError, match="fp8 on 1x h100-sxm"):
        estimate("llama-3.3-70b", "h100-sxm", 1, "bf16", 1000, 1000)


def test_fixed_concurrency_beyond_memory_is_refused() -> None:
    fits = estimate("llama-3.3-70b", "h100-sxm", 2, "fp8", 1000, 1000).max_batch_that_fits
    assert fits is not None
    ok = estimate("llama-3.3-70b", "h100-sxm", 2, "fp8", 1000, 1000, concurrency=fits)
    assert ok.batch == fits
    with pytest.raises(DeploymentDoesNotFitError, match="at most"):
        estimate("llama-3.3-70b", "h100-sxm", 2, "fp8", 1000, 1000, concurrency=fits + 1)


def test_concurrency_trades_per_user_speed_for_throughput() -> None:
    small = estimate("llama-3.1-8b", "h100-sxm", 1, "fp8", 1000, 1000, concurrency=4)
    large = estimate("llama-3.1-8b", "h100-sxm", 1, "fp8", 1000, 1000, concurrency=128)
    assert large.output_tokens_per_s_per_gpu > small.output_tokens_per_s_per_gpu
    assert large.tokens_per_s_per_user < small.tokens_per_s_per_user
    assert large.usd_per_mtok_output < small.usd_per_mtok_output


def test_moe_reports_experts_touched_and_gpt_oss_keeps_mxfp4() -> None:
    e = estimate("gpt-oss-120b", "h100-sxm", 1, "bf16", 1000, 1000)
    assert e.experts_touched_per_layer is not None
    # MXFP4 experts are never up-cast: ~61 GB experts + ~4 GB bf16 attention/embeddings.
    assert 60 < e.weights_gb < 70


def test_fp4_needs_blackwell() -> None:
    with pytest.raises(InvalidInputError, match="no fp4 tensor cores"):
        estimate("llama-3.3-70b", "h100-sxm", 1, "fp4", 1000, 1000)
    assert estimate("llama-3.3-70b", "b200", 1, "fp4", 1000, 1000).precision == "fp4"


def test_a100_has_no_fp8() -> None:
    with pytest.raises(InvalidInputError) as info:
        estimate("llama-3.1-8b", "a100-80gb", 1, "fp8", 1000, 1000)
    assert info.value.field == "precision"


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (("llama-9", "h100-sxm", 1, "fp8"), "model"),
        (("llama-3.1-8b", "h300", 1, "fp8"), "gpu"),
        (("llama-3.1-8b", "h100-sxm", 1, "int3"), "precision"),
    ],
)
def test_unknown_ids(args: tuple[str, str, int, str], kind: str) -> None:
    with pytest.raises(UnknownIdError) as info:
        estimate(*args, 1000, 1000)
    assert info.value.kind == kind
    assert f"unknown {kind} '{args[{'model': 0, 'gpu': 1, 'precision': 3}[kind]]}'" in str(
        info.value
    )
    assert "known: " in str(info.value)


def test_unknown_gpu_message_lists_catalog() -> None:
    with pytest.raises(UnknownIdError, match=r"unknown gpu 'h300'; known: a100-80gb, b200, "):
        estimate("llama-3.1-8b", "h300", 1, "fp8", 1000, 1000)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"gpus": 0}, "gpus"),
        ({"gpus": 1000}, "gpus"),
        ({"isl": 0}, "isl"),
        ({"osl": -3}, "osl"),
        ({"concurrency": 0}, "concurrency"),
        ({"usd_per_gpu_hour": -1.0}, "usd_per_gpu_hour"),
        ({"efficiency": Efficiency(mbu=1.5)}, "efficiency.mbu"),
    ],
)
def test_bad_deployment_inputs(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "model_id": "llama-3.1-8b",
        "gpu_id": "h100-sxm",
        "gpus": 1,
        "precision": "fp8",
        "isl": 1000,
        "osl": 1000,
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as info:
        estimate(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_every_catalog_model_fits_somewhere_sensible() -> None:
    cat = load_catalog()
    assert set(cat.gpus) == {"h100-sxm", "h100-pcie", "h200", "b200", "a100-80gb", "l4"}
    assert set(cat.models) == {
        "llama-3.1-8b",
        "llama-3.3-70b",
        "gpt-oss-120b",
        "deepseek-r1",
        "qwen3-235b-a22b",
    }
    assert estimate("llama-3.1-8b", "l4", 1, "fp8", 1000, 1000).batch >= 1
    assert estimate("qwen3-235b-a22b", "h100-sxm", 4, "fp8", 1000, 1000).batch >= 1
    r1 = load_catalog().model("deepseek-r1")
    # MLA: 576 latent elements per layer per token, 61 layers, FP8 -> ~35 KB per token.
    assert r1.kv_bytes_per_sequence(1, "fp8") == 576 * 61
