"""Replay input lines may carry latency constraints; the report counts what they changed."""

from __future__ import annotations

from pathlib import Path

from replay_data import labelled, replay, write_jsonl

from tierwise.server.routing.router import RouteInput, Router


def test_replay_counts_the_decisions_latency_constraints_changed(
    router: Router, tmp_path: Path
) -> None:
    rows = labelled(200, seed=3)
    for index, row in enumerate(rows):
        if index % 2 == 0:
            row["min_output_tokens_per_s"] = 50.0  # self-hosted streams ~23 tokens/s
        if index % 10 == 1:
            row["max_latency_ms"] = 1e7  # constrained, but met by every tier: changes nothing
    rows.append({**rows[0], "id": "bad", "max_ttft_ms": -1})
    source = write_jsonl(tmp_path / "labelled.jsonl", rows)
    result = replay(router, source, tmp_path / "out")
    assert result.latency_constrained == 100 + 20
    # Every even line the starting policy sent to self-hosted moves to a faster tier.
    unconstrained = replay(router, write_jsonl(tmp_path / "free.jsonl", labelled(200, seed=3)),
                           tmp_path / "free")  # fmt: skip
    assert unconstrained.latency_constrained == unconstrained.latency_changed == 0
    known = router.table.ids()
    expected = sum(
        router.route(RouteInput.create(query=row["query"], known_tiers=known)).tier
        != router.route(
            RouteInput.create(query=row["query"], known_tiers=known, min_output_tokens_per_s=50.0)
        ).tier
        for row in rows[:200:2]
    )
    assert result.latency_changed == expected > 0
    assert any("max_ttft_ms" in issue for issue in result.issues)
    report = result.report_path.read_text()
    assert f"the constraint changed {result.latency_changed} of" in report
