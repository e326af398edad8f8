"""The prompt-shape suite: the same questions in the shapes users really send.

Each question of ../shared/data appears bare, behind a shared ~1,500-token few-shot prefix,
behind a long system prompt, after a RAG context block, and as the last turn of a multi-turn
chat. A router that reads prompts well gives each shape the same difficulty ordering as the
bare questions, and never gives two distinct questions one value (the failure of a
head-only window: every question behind one template looked the same).

The suite is committed (``shapes/prompt_shapes.json``, written by
``scripts/make_prompt_shapes.py``) so every run measures the same prompts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from tierwise.classifier import evaluate as ev
from tierwise.classifier.prompt_view import PromptView, chat_view, text_view

SUITE_PATH: Final = Path(__file__).parent / "shapes" / "prompt_shapes.json"
SHAPES: Final = ("bare", "few_shot", "system_prompt", "rag", "chat")
# Spearman against the bare question that every shape must keep (the bar).
MIN_SPEARMAN: Final = 0.8


@dataclass(frozen=True)
class ShapeItem:
    question: str
    documents: tuple[str, ...]  # the RAG context of this question
    history: tuple[tuple[str, str], ...]  # (role, content) turns before the question


@dataclass(frozen=True)
class Suite:
    few_shot_prefix: str
    system_prompt: str
    items: tuple[ShapeItem, ...]


def load_suite(path: Path = SUITE_PATH) -> Suite:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Suite(
        few_shot_prefix=str(raw["few_shot_prefix"]),
        system_prompt=str(raw["system_prompt"]),
        items=tuple(
            ShapeItem(
                question=str(it["question"]),
                documents=tuple(str(d) for d in it["documents"]),
                history=tuple((str(r), str(c)) for r, c in it["history"]),
            )
            for it in raw["items"]
        ),
    )


def prompt_text(suite: Suite, shape: str, item: ShapeItem) -> str:
    """The whole prompt text of one question in one shape (chat: turns joined)."""
    if shape == "bare":
        return item.question
    if shape == "few_shot":
        return f"{suite.few_shot_prefix}Question: {item.question}\nAnswer:"
    if shape == "system_prompt":
        return f"{suite.system_prompt}\n\nUser request:\n{item.question}"
    if shape == "rag":
        docs = "\n\n".join(f"[{k + 1}] {d}" for k, d in enumerate(item.documents))
        return (
            "Answer the question using the documents below where they help.\n\n"
            f"Documents:\n{docs}\n\nQuestion: {item.question}"
        )
    if shape == "chat":
        return "\n\n".join([*(c for _, c in item.history), item.question])
    raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


def view(suite: Suite, shape: str, item: ShapeItem) -> PromptView:
    """What the encoder reads of the question in this shape: exactly what the server does."""
    if shape == "chat":
        return chat_view(item.question, [c for _, c in item.history])
    return text_view(prompt_text(suite, shape, item))


@dataclass(frozen=True)
class ShapeResult:
    shape: str
    spearman_vs_bare: float
    collapsed: int  # questions whose difficulty another distinct question shares
    mean_shift: float  # mean difficulty minus the bare questions' mean
    truncated_share: float


def evaluate(suite: Suite, difficulty: Callable[[Sequence[str]], np.ndarray]) -> list[ShapeResult]:
    """Score every shape with ``difficulty`` (texts → values) and compare with bare."""
    bare: np.ndarray | None = None
    out = []
    for shape in SHAPES:
        views = [view(suite, shape, it) for it in suite.items]
        d = np.asarray(difficulty([v.text for v in views]), dtype=np.float64)
        if bare is None:
            bare = d
        values, counts = np.unique(d.astype(np.float32), return_counts=True)
        del values
        out.append(
            ShapeResult(
                shape=shape,
                spearman_vs_bare=ev.spearman(d, bare),
                collapsed=int(counts[counts > 1].sum()),
                mean_shift=float(d.mean() - bare.mean()),
                truncated_share=float(np.mean([v.truncated for v in views])),
            )
        )
    return out


def render_results(results: Sequence[ShapeResult]) -> list[str]:
    """Markdown table of a shape evaluation."""
    rows = [
        f"| shape | Spearman vs bare (≥ {MIN_SPEARMAN}) | questions sharing a value "
        "| mean difficulty shift | views truncated |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {r.shape} | {r.spearman_vs_bare:.3f} | {r.collapsed} | {r.mean_shift:+.3f} "
        f"| {r.truncated_share:.0%} |"
        for r in results
    ]
    return rows
