"""The outcome store on SQLite and PostgreSQL: writes, duplicates, look-ups, reads by time."""

from __future__ import annotations

import pytest

from tierwise.server.outcomes.records import AttemptRecord, DecisionRecord, OutcomeRecord
from tierwise.server.outcomes.store import StoreError, open_store
from tierwise.server.outcomes.writer import BackgroundWriter


def _decision(i: int, at: float = 100.0) -> DecisionRecord:
    return DecisionRecord(
        decision_id=f"d-{i}",
        decided_at=at,
        strategy="cascade",
        tier="haiku",
        plan_tiers=("haiku", "opus"),
        policy_version="p1",
        input_tokens=42,
        caller="svc",
        query_text=f"query {i}" if i % 2 == 0 else None,
    )


def _outcome(i: int, at: float) -> OutcomeRecord:
    return OutcomeRecord(
        decision_id=f"d-{i}",
        reported_at=at,
        attempts=(
            AttemptRecord("haiku", 0.25, False, 0.001, 120.0, quality=0.0),
            AttemptRecord("opus", None, True, 0.01, 900.5, error=""),
        ),
        final_tier="opus",
        stop_reason="accepted",
        feature="qa",
    )


def test_write_read_and_duplicates(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.write([_decision(i) for i in range(3)], [_outcome(0, 10.0), _outcome(1, 20.0)])
        # A replica racing to write the same rows: ignored, first write wins.
        store.write([_decision(0, at=999.0)], [_outcome(0, 30.0)])
        assert store.has_decision("d-2") and not store.has_decision("d-9")
        assert store.has_outcome("d-1") and not store.has_outcome("d-2")
        rows = store.outcomes_since(0.0)
        assert [r.outcome.decision_id for r in rows] == ["d-0", "d-1"]
        assert rows[0].outcome == _outcome(0, 10.0)
        assert rows[0].decision == _decision(0)
        assert rows[1].decision is not None and rows[1].decision.query_text is None
        assert [r.outcome.decision_id for r in store.outcomes_since(15.0)] == ["d-1"]
        store.write([], [_outcome(7, 40.0)])  # an outcome whose decision row is missing
        assert store.outcomes_since(35.0)[0].decision is None
    finally:
        store.close()


def test_background_writer_batches_and_survives_a_broken_store(store_url: str) -> None:
    store = open_store(store_url)
    results: list[tuple[str, int]] = []
    writer = BackgroundWriter(
        store, flush_interval_s=0.01, on_write=lambda r, n: results.append((r, n))
    )
    for i in range(50):
        assert writer.offer(_decision(i))
    assert writer.flush(10.0)
    assert sum(n for r, n in results if r == "ok") == 50
    store.close()  # every later write fails: counted, logged, the writer keeps going
    assert writer.offer(_decision(99))
    assert writer.flush(10.0)
    assert results[-1] == ("error", 1)
    writer.close()


def test_bad_store_urls_are_clear_errors(tmp_path: object) -> None:
    with pytest.raises(StoreError, match="expected a file path"):
        open_store("mysql://localhost/x")
    with pytest.raises(StoreError, match="outcome store"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    try:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none")
    except StoreError as error:
        assert "secret" not in str(error)


def test_a_full_queue_drops_instead_of_blocking(tmp_path: object) -> None:
    class Stuck:
        def __init__(self) -> None:
            import threading

            self.release = threading.Event()

        def write(self, decisions: object, outcomes: object) -> None:
            self.release.wait(5)

    stuck = Stuck()
    writer = BackgroundWriter(stuck, max_queue=2, flush_interval_s=0.0)
    accepted = [writer.offer(_decision(i)) for i in range(10)]
    assert not all(accepted) and writer.dropped >= 1
    stuck.release.set()
    writer.close()
