"""The published latency table and the latency file format."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.cost_tables.errors import TableFileError
from tierwise.cost_tables.latency import (
    LatencyFigures,
    load_latency_table,
    parse_latency_table,
    render_tier_figures,
)
from tierwise.cost_tables.tables import load_tier_table


def test_every_api_tier_has_a_sourced_published_figure() -> None:
    table = load_latency_table()
    for tier in load_tier_table().tiers:
        if tier.kind != "api":
            continue
        figures = table.models[tier.model]
        assert figures.ttft_ms_p50 > 0 and figures.output_tokens_per_s_p50 > 0
        assert figures.source.strip() and figures.as_of.strip()
        if figures.estimate:
            assert "ESTIMATE" in figures.note  # an estimate says why
    assert table.models["claude-opus-4-5"].estimate
    assert not table.models["claude-sonnet-4-5"].estimate


def test_latency_to_the_last_token() -> None:
    figures = LatencyFigures(
        ttft_ms_p50=500.0,
        output_tokens_per_s_p50=50.0,
        source="s",
        as_of="d",
        ttft_ms_p90=900.0,
        output_tokens_per_s_p90=25.0,
    )
    assert figures.latency_ms(100) == pytest.approx(500 + 2000)
    assert figures.latency_ms_p90(100) == pytest.approx(900 + 4000)
    no_tail = LatencyFigures(ttft_ms_p50=1.0, output_tokens_per_s_p50=1.0, source="s", as_of="d")
    assert no_tail.latency_ms_p90(10) is None


def test_render_reads_back_to_the_same_figures(tmp_path: Path) -> None:
    figures = {
        "haiku": LatencyFigures(
            ttft_ms_p50=0.1 + 0.2,
            output_tokens_per_s_p50=97.0,
            source='quoted "source" \\ here',
            as_of="2026-12-01",
            ttft_ms_p90=1.5,
            samples=42,
            note="line one\nline two",
        ),
        "odd.tier": LatencyFigures(
            ttft_ms_p50=10.0, output_tokens_per_s_p50=20.0, source="s", as_of="d"
        ),
    }
    path = tmp_path / "latency.toml"
    path.write_text(render_tier_figures("v1", figures, comment="a\nb"))
    table = load_latency_table(path)
    assert dict(table.tiers) == figures and table.version == "v1"
    assert parse_latency_table(path.read_text(), "inline").tiers == table.tiers


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[tiers.a]\nttft_ms_p50 = 0\noutput_tokens_per_s_p50 = 1\n", "tiers.a.ttft_ms_p50"),
        ("[tiers.a]\nttft_ms_p50 = 1\noutput_tokens_per_s_p50 = inf\n", "output_tokens_per_s_p50"),
        ("[tiers.a]\nttft_ms_p50 = 1e9\noutput_tokens_per_s_p50 = 1\n", "must be <="),
        (
            "[tiers.a]\nttft_ms_p50 = 5\noutput_tokens_per_s_p50 = 10\n"
            "output_tokens_per_s_p90 = 20\n",
            "is the slow tail",
        ),
        ("[tiers.a]\nttft_ms_p50 = 5\noutput_tokens_per_s_p50 = 10\nttfb = 1\n", "ttfb"),
        ("[tiers.a]\nttft_ms_p50 = 5\noutput_tokens_per_s_p50 = 10\nestimate = 1\n", "estimate"),
    ],
)
def test_bad_entries_name_the_key(body: str, key: str) -> None:
    document = f'version = "x"\n{body}source = "s"\nas_of = "d"\n'
    with pytest.raises(TableFileError, match=key.replace(".", r"\.")):
        parse_latency_table(document, "test.toml")
