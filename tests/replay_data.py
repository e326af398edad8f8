"""Labelled replay input for tests: tiny-vocabulary queries with known tier abilities."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from tiny_router import HARD_WORDS, TINY_VOCAB

from tierwise.server.replay import ReplayOptions, ReplayResult, run_replay
from tierwise.server.routing.router import Router

EASY_WORDS = [w for w in TINY_VOCAB[2:] if w not in HARD_WORDS]
HARD = sorted(HARD_WORDS)
# True abilities of the labelled data (the test policy says 0.5 / 1.5 / 3.0 / 4.0).
TRUE_ABILITY = {"self-hosted": -0.5, "haiku": 0.5, "sonnet": 1.5, "opus": 2.5}


def labelled(
    n: int, seed: int = 0, *, reverse: bool = False, keys: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Queries of tiny-vocabulary words; each hard word makes a query harder (``reverse``:
    easier, which the shipped head gets backwards)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        hard = rng.randint(0, 3)
        words = [rng.choice(EASY_WORDS) for _ in range(rng.randint(2, 6))]
        words += [rng.choice(HARD) for _ in range(hard)]
        rng.shuffle(words)
        difficulty = (3 - hard) if reverse else hard
        outcomes = {
            (keys or {}).get(t, t): float(rng.random() < 1 / (1 + math.exp(difficulty - a - 0.5)))
            for t, a in TRUE_ABILITY.items()
        }
        rows.append({"id": f"q{i}", "query": " ".join(words), "outcomes": outcomes})
    return rows


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def replay(router: Router, source: Path, out: Path, **options: Any) -> ReplayResult:
    return run_replay(router, ReplayOptions(input_path=source, out_dir=out, **options))
