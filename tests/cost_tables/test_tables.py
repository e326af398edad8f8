"""Tier table loading: defaults, derived self-hosted prices, and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.cost_tables._toml import packaged_data_path
from tierwise.cost_tables.catalog import load_catalog
from tierwise.cost_tables.errors import TableFileError, UnknownIdError
from tierwise.cost_tables.hardware import estimate
from tierwise.cost_tables.tables import load_tier_table

DEFAULT = packaged_data_path("tiers.toml").read_text()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiers.toml"
    path.write_text(text)
    return path


def _edit(old: str, new: str, count: int = 1) -> str:
    assert old in DEFAULT, old
    return DEFAULT.replace(old, new, count)


def test_default_table() -> None:
    table = load_tier_table()
    assert table.ids() == ("self-hosted", "haiku", "sonnet", "opus")
    haiku, sonnet, opus = table.get("haiku"), table.get("sonnet"), table.get("opus")
    assert (haiku.usd_per_mtok_input, haiku.usd_per_mtok_output) == (1.0, 5.0)
    assert (sonnet.usd_per_mtok_input, sonnet.usd_per_mtok_output) == (3.0, 15.0)
    assert (opus.usd_per_mtok_input, opus.usd_per_mtok_output) == (5.0, 25.0)
    assert [t.min_cacheable_tokens for t in (haiku, sonnet, opus)] == [4096, 1024, 4096]
    for t in (haiku, sonnet, opus):
        assert t.kind == "api"
        assert (t.cache_write_5m_multiplier, t.cache_write_1h_multiplier) == (1.25, 2.0)
        assert (t.cache_read_multiplier, t.batch_discount) == (0.1, 0.5)
        assert t.provenance.source and t.provenance.as_of
        assert t.derivation is None
    assert sonnet.long_context is not None
    assert sonnet.long_context.threshold_input_tokens == 200_000
    assert (sonnet.long_context.usd_per_mtok_input, sonnet.long_context.usd_per_mtok_output) == (
        6.0,
        22.5,
    )
    assert haiku.long_context is None and opus.long_context is None


def test_self_hosted_prices_are_derived_not_typed() -> None:
    sh = load_tier_table().get("self-hosted")
    assert sh.kind == "self-hosted"
    assert sh.derivation is not None
    # Priced at the largest batch meeting the tier's SLO (>= 50 tok/s per user).
    batch = sh.derivation.batch
    again = estimate(
        "gpt-oss-120b", "h100-sxm", 2, "fp8", 1000, 1000, concurrency=batch, usd_per_gpu_hour=2.49
    )
    assert sh.usd_per_mtok_input == again.usd_per_mtok_input
    assert sh.usd_per_mtok_output == again.usd_per_mtok_output
    assert again.tokens_per_s_per_user >= 50
    one_more = estimate(
        "gpt-oss-120b",
        "h100-sxm",
        2,
        "fp8",
        1000,
        1000,
        concurrency=batch + 1,
        usd_per_gpu_hour=2.49,
    )
    assert one_more.tokens_per_s_per_user < 50
    at_max = estimate("gpt-oss-120b", "h100-sxm", 2, "fp8", 1000, 1000, usd_per_gpu_hour=2.49)
    assert at_max.tokens_per_s_per_user < 50 < sh.derivation.tokens_per_s_per_user + 50
    assert sh.usd_per_mtok_output > 2 * at_max.usd_per_mtok_output
    assert sh.model == "gpt-oss-120b"
    assert (sh.cache_read_multiplier, sh.batch_discount) == (0.0, 0.0)
    # Even at an interactive speed, well below Haiku's list price.
    assert sh.usd_per_mtok_output < 0.5 * load_tier_table().get("haiku").usd_per_mtok_output


def test_unknown_tier() -> None:
    with pytest.raises(UnknownIdError, match="unknown tier 'gpt5'; known: self-hosted, haiku"):
        load_tier_table().get("gpt5")


def test_tier_ids_are_configurable(tmp_path: Path) -> None:
    text = DEFAULT.replace("[tiers.haiku", "[tiers.cheap")
    table = load_tier_table(_write(tmp_path, text))
    assert table.get("cheap").model == "claude-haiku-4-5"
    assert "haiku" not in table.ids()


def test_a_fixed_concurrency_replaces_the_slo_search(tmp_path: Path) -> None:
    text = _edit("min_tokens_per_s_per_user = 50\nmax_ttft_ms = 1000\n", "")
    text = text.replace("[tiers.self-hosted.deployment.slo]\n", "")
    text = text.replace("osl = 1000\n", 'osl = 1000\nconcurrency = "max"\n', 1)
    at_max = load_tier_table(_write(tmp_path, text)).get("self-hosted")
    assert at_max.operating_point is not None
    assert at_max.operating_point.binding == "max_batch"
    assert at_max.derivation is not None and at_max.derivation.batch == 512
    interactive = load_tier_table().get("self-hosted")
    assert at_max.usd_per_mtok_output < interactive.usd_per_mtok_output / 2


def test_efficiency_override_changes_derived_price(tmp_path: Path) -> None:
    text = _edit(
        "[tiers.self-hosted.deployment.efficiency]\n",
        "[tiers.self-hosted.deployment.efficiency]\nmfu_decode = 0.19\n",
    )
    slower = load_tier_table(_write(tmp_path, text)).get("self-hosted")
    assert slower.usd_per_mtok_output > load_tier_table().get("self-hosted").usd_per_mtok_output


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ("usd_per_mtok_input = 1.0\n", "", "tiers.haiku.usd_per_mtok_input", "missing"),
        (
            "usd_per_mtok_input = 1.0",
            'usd_per_mtok_input = "one"',
            "tiers.haiku.usd_per_mtok_input",
            "must be a number",
        ),
        (
            "usd_per_mtok_input = 1.0",
            "usd_per_mtok_input = -1.0",
            "tiers.haiku.usd_per_mtok_input",
            "must be >= 0",
        ),
        (
            "usd_per_mtok_input = 1.0",
            "usd_per_mtok_input = 1.0\nusd_per_mtok_inptu = 1.0",
            "tiers.haiku.usd_per_mtok_inptu",
            "unknown key",
        ),
        (
            "batch_discount = 0.5",
            "batch_discount = 50",
            "tiers.haiku.batch_discount",
            "must be <= 1",
        ),
        (
            "min_cacheable_tokens = 4096",
            "min_cacheable_tokens = 4096.5",
            "tiers.haiku.min_cacheable_tokens",
            "must be an integer",
        ),
        ('kind = "api"', 'kind = "cloud"', "tiers.haiku.kind", "must be one of api, self-hosted"),
        (
            "threshold_input_tokens = 200000",
            "threshold_input_tokens = 0",
            "tiers.sonnet.long_context.threshold_input_tokens",
            "must be >= 1",
        ),
        (
            'as_of = "2025-11-24"\nnote',
            "note",
            "tiers.haiku.provenance.as_of",
            "missing",
        ),
        ('version = "2026-11-22"\n', "", "version", "missing"),
        (
            "osl = 1000\n",
            'osl = 1000\nconcurrency = "max"\n',
            "tiers.self-hosted.deployment.concurrency",
            "either a fixed concurrency or an [slo]",
        ),
        (
            "min_tokens_per_s_per_user = 50\n",
            "min_tokens_per_s_per_user = -50\n",
            "tiers.self-hosted.deployment.slo.min_tokens_per_s_per_user",
            "must be > 0",
        ),
        (
            "max_ttft_ms = 1000\n",
            "max_ttfb_ms = 1000\n",
            "tiers.self-hosted.deployment.slo.max_ttfb_ms",
            "unknown key",
        ),
        (
            "min_tokens_per_s_per_user = 50\nmax_ttft_ms = 1000\n",
            "",
            "tiers.self-hosted.deployment.slo",
            "needs min_tokens_per_s_per_user or max_ttft_ms",
        ),
        (
            "min_tokens_per_s_per_user = 50\n",
            "min_tokens_per_s_per_user = 5000\n",
            "tiers.self-hosted.deployment",
            "no batch meets the SLO (>= 5000 tok/s per user",
        ),
        (
            "osl = 1000\n",
            "osl = 1000\ntarget_load = 1.5\n",
            "tiers.self-hosted.deployment.target_load",
            "must be <= 0.999",
        ),
        (
            "[tiers.self-hosted.deployment.efficiency]\n",
            "[tiers.self-hosted.deployment.efficiency]\nmbu_typo = 0.5\n",
            "tiers.self-hosted.deployment.efficiency.mbu_typo",
            "unknown key",
        ),
        (
            'precision = "fp8"\n# Priced',
            'precision = "fp8"\nusd_per_mtok_input = 0.1\n# Priced',
            "tiers.self-hosted.deployment.usd_per_mtok_input",
            "unknown key",
        ),
    ],
)
def test_validation_names_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    path = _write(tmp_path, _edit(old, new))
    with pytest.raises(TableFileError) as info:
        load_tier_table(path)
    err = info.value
    assert err.path == str(path)
    assert err.key == key
    assert problem in err.problem
    assert str(err).startswith(f"cost table {path}: {key}: ")


def test_self_hosted_must_not_type_prices(tmp_path: Path) -> None:
    text = _edit('kind = "self-hosted"', 'kind = "self-hosted"\nusd_per_mtok_output = 0.01')
    with pytest.raises(TableFileError, match=r"tiers\.self-hosted\.usd_per_mtok_output"):
        load_tier_table(_write(tmp_path, text))


def test_deployment_that_does_not_fit(tmp_path: Path) -> None:
    text = _edit('model = "gpt-oss-120b"', 'model = "deepseek-r1"')
    with pytest.raises(TableFileError) as info:
        load_tier_table(_write(tmp_path, text))
    assert info.value.key == "tiers.self-hosted.deployment"
    assert "does not fit" in info.value.problem


def test_deployment_with_unknown_gpu(tmp_path: Path) -> None:
    text = _edit('gpu = "h100-sxm"', 'gpu = "h300"')
    with pytest.raises(TableFileError, match="unknown gpu 'h300'"):
        load_tier_table(_write(tmp_path, text))


def test_malformed_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, "version = \n[[[")
    with pytest.raises(TableFileError, match="<file>: invalid TOML"):
        load_tier_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TableFileError, match="file not found"):
        load_tier_table(tmp_path / "nope.toml")


def test_empty_tiers(tmp_path: Path) -> None:
    with pytest.raises(TableFileError, match="tiers: must not be empty"):
        load_tier_table(_write(tmp_path, 'version = "x"\n[tiers]\n'))


# ---- GPU and model catalogs ------------------------------------------------------------


def test_catalog_numbers_have_provenance() -> None:
    cat = load_catalog()
    for gpu in cat.gpus.values():
        assert gpu.provenance.spec_source and gpu.provenance.price_source
        assert gpu.provenance.as_of
    for model in cat.models.values():
        assert model.provenance.source and model.provenance.as_of


def test_bad_gpu_file(tmp_path: Path) -> None:
    text = packaged_data_path("gpus.toml").read_text().replace("watts = 700", "watts = -700", 1)
    path = tmp_path / "gpus.toml"
    path.write_text(text)
    with pytest.raises(TableFileError) as info:
        load_catalog(gpus_path=path)
    assert info.value.key == "gpus.h100-sxm.watts"


def test_inconsistent_model_file(tmp_path: Path) -> None:
    text = (
        packaged_data_path("models.toml")
        .read_text()
        .replace("expert_params_b = 653.9", "expert_params_b = 553.9")
    )
    path = tmp_path / "models.toml"
    path.write_text(text)
    with pytest.raises(TableFileError) as info:
        load_catalog(models_path=path)
    assert info.value.key == "models.deepseek-r1.total_params_b"
    assert "differs from total_params_b" in info.value.problem
