"""Build a labelled replay file (JSONL) from ../shared/data for `tierwise replay`.

Rows: LLMRouter's train.json (per-query scores 0..1 of nine open models), only those in the
router classifier's held-out validation split (a sha256 hash of the normalised query, see
tierwise.classifier.data.is_validation_text), so replay is measured on queries the shipped
router never trained on. The four product tiers are played by models of increasing measured
strength on these rows:

    self-hosted ← mistral-7b-instruct-v0.3         (7B)
    haiku       ← qwen2.5-7b-instruct              (7B, clearly stronger)
    sonnet      ← llama-3.3-nemotron-super-49b-v1  (49B)
    opus        ← llama-3.1-nemotron-51b-instruct  (51B, the best of the nine here)

(The 70B model in the file, llama3-chatqa-1.5-70b, scores 0.19 on these rows: a chat-QA
fine-tune that fails the answer formats, so it is not used.)

    python scripts/make_replay_sample.py --out /tmp/replay_sample.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tierwise.classifier.data import is_validation_text

REPO = Path(__file__).resolve().parents[1]
TIER_MODELS = {
    "self-hosted": "mistral-7b-instruct-v0.3",
    "haiku": "qwen2.5-7b-instruct",
    "sonnet": "llama-3.3-nemotron-super-49b-v1",
    "opus": "llama-3.1-nemotron-51b-instruct",
}


def build(data_dir: Path, limit: int | None) -> list[dict[str, object]]:
    rows = json.loads((data_dir / "llmrouter" / "train.json").read_text(encoding="utf-8"))
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        query = str(row["question"])
        if not is_validation_text(query) or query in seen:
            continue
        scores = row["scores"]
        if not all(model in scores for model in TIER_MODELS.values()):
            continue
        seen.add(query)
        outcomes = {
            tier: min(1.0, max(0.0, float(scores[model]))) for tier, model in TIER_MODELS.items()
        }
        out.append({"id": f"llmrouter-{index}", "query": query, "outcomes": outcomes})
        if limit is not None and len(out) >= limit:
            break
    return out


def _outcome(row: dict[str, object], tier: str) -> float:
    outcomes = row["outcomes"]
    assert isinstance(outcomes, dict)
    return float(outcomes[tier])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output JSONL")
    parser.add_argument(
        "--data-dir", type=Path, default=REPO.parent / "shared" / "data", help="shared data"
    )
    parser.add_argument("--limit", type=int, help="at most this many lines")
    args = parser.parse_args(argv)
    rows = build(args.data_dir, args.limit)
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    means = {tier: sum(_outcome(r, tier) for r in rows) / max(1, len(rows)) for tier in TIER_MODELS}
    summary = ", ".join(f"{tier} {mean:.3f}" for tier, mean in means.items())
    print(f"wrote {len(rows)} lines to {args.out} (mean outcome: {summary})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
