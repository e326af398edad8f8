"""Load ../shared/data into one list of :class:`Item` records (one per distinct query).

Each item carries per-model outcomes in [0, 1] (binary or graded), a multiple-choice chance
level, and measured output lengths (tokens) where a response or reference solution exists.
Items with the same normalised text across sources are merged (GSM8K: RouteLLM's Mixtral/GPT-4
outcomes and OpenAI's GPT-3 outcomes are the same 1,319 test questions).

The validation split is a deterministic function of the normalised query text (sha256), so it
is stable across runs, machines and row limits.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

VALIDATION_FRACTION = 0.15

MIXTRAL = "mixtral-8x7b-instruct"
GPT4 = "gpt-4-1106-preview"
GPT3_MODELS = {
    "6b_finetuning": "gpt3-6b-finetuned",
    "6b_verification": "gpt3-6b-verifier",
    "175b_finetuning": "gpt3-175b-finetuned",
    "175b_verification": "gpt3-175b-verifier",
}
_ROUTELLM_COLUMNS = {
    "mistralai/Mixtral-8x7B-Instruct-v0.1": MIXTRAL,
    "gpt-4-1106-preview": GPT4,
}
# LLMRouter multiple-choice tasks (choices are given to the model, not in the query text).
_LLMROUTER_MC_CHANCE = {
    "mmlu": 0.25,
    "openbook_qa": 0.25,
    "arc_challenge": 0.25,
    "gpqa": 0.25,
    "commonsense_qa": 0.2,
}
# LLMRouter tasks whose ground truth is a full solution a model would also have to write.
_LLMROUTER_LENGTH_TASKS = {"mbpp", "human_eval"}
# LLMRouter short-answer tasks scored by string match. A row where all 9 models (7B-70B) score 0
# is a grading artefact, not a hard question: 73% of trivia_qa rows are all-zero (Llama-3.1-8B
# "scores" 0.18 on TriviaQA), e.g. "Of which country is Vientiane the capital?". Kept, they
# taught the model that short factual questions are the hardest queries in the data.
_LLMROUTER_DROP_ALL_ZERO = {"trivia_qa", "natural_qa"}


@dataclass
class Item:
    """One distinct query with everything known about it."""

    text: str
    source: str  # first source seen: routellm-mmlu, routellm-gsm8k, llmrouter, gsm8k-gpt3, math
    task: str = ""
    outcomes: dict[str, float] = field(default_factory=dict)
    graded: bool = False  # True when any outcome is fractional (LLMRouter commongen)
    chance: float = 0.0  # guessing floor c_i (multiple choice: 1 / n_options)
    output_texts: list[str] = field(default_factory=list)  # responses / reference solutions
    math_level: int | None = None  # MATH human difficulty 1..5
    sources: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return normalise(self.text)

    @property
    def is_validation(self) -> bool:
        return is_validation_text(self.text)


@dataclass(frozen=True)
class Dataset:
    items: list[Item]
    files: dict[str, int]  # data file (relative to data dir) -> rows read
    dropped_contaminated: int
    dropped_degenerate: int = 0  # LLMRouter string-match rows where every model scored 0

    def split(self) -> tuple[list[Item], list[Item]]:
        train = [it for it in self.items if not it.is_validation]
        val = [it for it in self.items if it.is_validation]
        return train, val


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def is_validation_text(text: str, fraction: float = VALIDATION_FRACTION) -> bool:
    digest = hashlib.sha256(normalise(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def default_data_dir() -> Path:
    """``<repo>/../shared/data``, where <repo> holds this package's ``classifier/`` folder."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "classifier").is_dir() and (parent / "pyproject.toml").is_file():
            return parent.parent / "shared" / "data"
    return Path.cwd().parent / "shared" / "data"


def _limit(rows: Iterable[dict[str, object]], max_rows: int | None) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for row in rows:
        if max_rows is not None and len(out) >= max_rows:
            break
        out.append(row)
    return out


def _bool(v: object) -> float:
    s = str(v).strip().lower()
    if s in {"true", "1", "1.0"}:
        return 1.0
    if s in {"false", "0", "0.0"}:
        return 0.0
    raise ValueError(f"not a boolean outcome: {v!r}")


def _contaminated(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    out: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.add(normalise(json.loads(line)["eval_prompt"]))
    return out


class _Builder:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.files: dict[str, int] = {}
        self.dropped = 0
        self.degenerate = 0

    def get(self, text: str, source: str, task: str) -> Item:
        key = normalise(text)
        item = self.items.get(key)
        if item is None:
            item = Item(text=text, source=source, task=task)
            self.items[key] = item
        item.sources.add(source)
        return item


def load_dataset(data_dir: Path | None = None, max_rows_per_source: int | None = None) -> Dataset:
    """Read every source. ``max_rows_per_source`` caps rows per file group (for tests)."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"data directory not found: {root}")
    b = _Builder()
    csv.field_size_limit(1 << 30)

    # RouteLLM MMLU (57 subject CSVs; 4 options -> chance 0.25).
    contaminated = _contaminated(root / "routellm/mmlu/contaminated_prompts.jsonl")
    mmlu_files = sorted((root / "routellm/mmlu").glob("*.csv"))
    per_file = None
    if max_rows_per_source is not None:
        per_file = max(1, max_rows_per_source // max(1, len(mmlu_files)))
    for path in mmlu_files:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = _limit(csv.DictReader(fh), per_file)
        b.files[str(path.relative_to(root))] = len(rows)
        for row in rows:
            text = str(row["prompt"])
            if normalise(text) in contaminated:
                b.dropped += 1
                continue
            item = b.get(text, "routellm-mmlu", "mmlu-" + path.stem.removeprefix("mmlu_"))
            item.chance = 0.25
            for col, model in _ROUTELLM_COLUMNS.items():
                item.outcomes[model] = _bool(row[col])

    # RouteLLM GSM8K (responses -> output lengths).
    contaminated = _contaminated(root / "routellm/gsm8k/contaminated_prompts.jsonl")
    path = root / "routellm/gsm8k/gsm8k_responses.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = _limit(csv.DictReader(fh), max_rows_per_source)
    b.files[str(path.relative_to(root))] = len(rows)
    gsm_contaminated = contaminated
    for row in rows:
        text = str(row["prompt"])
        if normalise(text) in contaminated:
            b.dropped += 1
            continue
        item = b.get(text, "routellm-gsm8k", "gsm8k")
        for col, model in _ROUTELLM_COLUMNS.items():
            item.outcomes[model] = _bool(row[col])
            resp = str(row.get(col + "_response") or "")
            if resp.strip():
                item.output_texts.append(resp)

    # OpenAI grade-school-math: GPT-3 6B/175B outcomes on the same GSM8K test questions.
    path = root / "gsm8k-gpt3/example_model_solutions.jsonl"
    with path.open(encoding="utf-8") as fh:
        rows = _limit((json.loads(line) for line in fh if line.strip()), max_rows_per_source)
    b.files[str(path.relative_to(root))] = len(rows)
    for row in rows:
        text = str(row["question"])
        if normalise(text) in gsm_contaminated:
            b.dropped += 1
            continue
        item = b.get(text, "gsm8k-gpt3", "gsm8k")
        for col, model in GPT3_MODELS.items():
            sol = row[col]
            assert isinstance(sol, dict)
            item.outcomes[model] = 1.0 if sol["is_correct"] else 0.0
            if col.endswith("finetuning") and str(sol.get("solution", "")).strip():
                item.output_texts.append(str(sol["solution"]))

    # LLMRouter: 9 open models, scores 0..1; task names joined from default_query_train.jsonl.
    tasks: dict[str, str] = {}
    truths: dict[str, str] = {}
    qpath = root / "llmrouter/default_query_train.jsonl"
    if qpath.is_file():
        with qpath.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    q = json.loads(line)
                    tasks[normalise(q["query"])] = str(q["task_name"])
                    truths[normalise(q["query"])] = str(q.get("ground_truth") or "")
        b.files[str(qpath.relative_to(root))] = len(tasks)
    path = root / "llmrouter/train.json"
    with path.open(encoding="utf-8") as fh:
        rows = _limit(json.load(fh), max_rows_per_source)
    b.files[str(path.relative_to(root))] = len(rows)
    for row in rows:
        text = str(row["question"])
        task = tasks.get(normalise(text), "unknown")
        scores = row["scores"]
        assert isinstance(scores, dict)
        if task in _LLMROUTER_DROP_ALL_ZERO and all(float(v) <= 0.0 for v in scores.values()):
            b.degenerate += 1
            continue
        item = b.get(text, "llmrouter", task)
        for model, score in scores.items():
            s = float(score)
            item.outcomes[str(model)] = min(1.0, max(0.0, s))
            if 0.0 < s < 1.0:
                item.graded = True
        item.chance = max(item.chance, _LLMROUTER_MC_CHANCE.get(task, 0.0))
        if task in _LLMROUTER_LENGTH_TASKS and truths.get(normalise(text), "").strip():
            item.output_texts.append(truths[normalise(text)])

    # MATH: human difficulty levels (no model outcomes). Used for (a) validating that b-hat
    # orders levels 1..5, (b) output-length targets from the reference solutions.
    path = root / "math/math_test_levels.jsonl"
    with path.open(encoding="utf-8") as fh:
        rows = _limit((json.loads(line) for line in fh if line.strip()), max_rows_per_source)
    b.files[str(path.relative_to(root))] = len(rows)
    for row in rows:
        item = b.get(str(row["problem"]), "math", "math-" + str(row.get("type", "")))
        m = re.search(r"(\d)", str(row.get("level", "")))
        item.math_level = int(m.group(1)) if m else None
        if str(row.get("solution", "")).strip():
            item.output_texts.append(str(row["solution"]))

    return Dataset(
        items=list(b.items.values()),
        files=b.files,
        dropped_contaminated=b.dropped,
        dropped_degenerate=b.degenerate,
    )


def output_log_tokens(item: Item, count: Callable[[str], int]) -> float | None:
    """Mean log(tokens) over the item's responses/solutions, or None when there are none."""
    import math

    lens = [count(t) for t in item.output_texts]
    lens = [n for n in lens if n > 0]
    if not lens:
        return None
    return sum(math.log(n) for n in lens) / len(lens)
