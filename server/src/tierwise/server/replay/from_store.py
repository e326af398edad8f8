"""`tierwise replay --from-store URL --since 7d`: stored outcomes → a labelled JSONL file.

Each stored outcome with its decision's query text (stored only when the server runs with
--store-query-text) becomes one line: `outcomes` per tried tier (the caller's ground-truth
`quality` where it reported one, else the verifier's score) and `verifier` scores. Replay
then needs every replayed tier on a line: a cascade that stopped early labels only the
tiers it tried, so restrict the tiers (--tiers) or report full evaluations for a sample.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tierwise.server.outcomes.store import StoreError, open_store

_SINCE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_SECONDS: Final = {"d": 86_400.0, "h": 3_600.0, "m": 60.0}


def parse_since(text: str, now: float | None = None) -> float:
    """'7d' / '12h' / '30m' → the unix time that long ago."""
    match = _SINCE.match(text)
    if match is None:
        raise ValueError(f"--since {text!r}: expected a number and d, h or m (e.g. 7d)")
    return (time.time() if now is None else now) - float(match[1]) * _SECONDS[match[2]]


@dataclass(frozen=True)
class Export:
    written: int
    without_text: int
    without_decision: int
    without_labels: int

    def summary(self) -> str:
        return (
            f"skipped: {self.without_text} without stored query text (--store-query-text), "
            f"{self.without_decision} without a stored decision, {self.without_labels} without "
            "a score or quality"
        )


def export_labelled(url: str, since_unix_s: float, path: Path) -> Export:
    try:
        store = open_store(url)
    except StoreError as error:
        raise ValueError(str(error)) from error
    try:
        stored = store.outcomes_since(since_unix_s)
    finally:
        store.close()
    written = without_text = without_decision = without_labels = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for item in stored:
            if item.decision is None:
                without_decision += 1
                continue
            if not item.decision.query_text:
                without_text += 1
                continue
            outcomes: dict[str, float] = {}
            verifier: dict[str, float] = {}
            for attempt in item.outcome.attempts:
                label = attempt.quality if attempt.quality is not None else attempt.score
                if label is not None:
                    outcomes[attempt.tier] = label
                if attempt.score is not None:
                    verifier[attempt.tier] = attempt.score
            if not outcomes:
                without_labels += 1
                continue
            row: dict[str, object] = {
                "id": item.outcome.decision_id,
                "query": item.decision.query_text,
                "outcomes": outcomes,
                "input_tokens": item.decision.input_tokens,
            }
            if verifier and set(verifier) == set(outcomes):
                row["verifier"] = verifier
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            written += 1
    if written == 0:
        raise ValueError(
            f"--from-store: no usable outcomes since the given time ({len(stored)} stored; "
            f"{without_text} without query text: run the server with --store-query-text)"
        )
    return Export(written, without_text, without_decision, without_labels)
