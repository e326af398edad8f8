"""The shipped graphs keep a question's difficulty whatever the prompt around it.

Users wrap their questions in few-shot templates, long system prompts, RAG contexts and chat
histories. The committed prompt-shape suite puts the same questions in each shape; scored the
way the server scores them (prompt_view, one query per call), every shape must rank the
questions like the bare ones (Spearman >= 0.8) and keep distinct questions distinct.
"""

from __future__ import annotations

import pytest

from tierwise.classifier import prompt_shapes
from tierwise.classifier.runtime import RouterModel


@pytest.fixture(scope="module")
def suite() -> prompt_shapes.Suite:
    return prompt_shapes.load_suite()


def test_suite_covers_every_shape_with_distinct_questions(suite: prompt_shapes.Suite) -> None:
    assert set(prompt_shapes.SHAPES) >= {"bare", "few_shot", "system_prompt", "rag", "chat"}
    questions = [it.question for it in suite.items]
    assert len(questions) >= 200 and len(set(questions)) == len(questions)
    # The few-shot prefix is the ~1,500-token block the issue asks for (≈ 4 chars a token).
    assert len(suite.few_shot_prefix) >= 4_000


@pytest.mark.parametrize("encoder", ["transformer", "fast"])
def test_shipped_graph_keeps_every_shape_ranked_and_distinct(
    suite: prompt_shapes.Suite, encoder: str
) -> None:
    model = RouterModel.load(encoder=encoder)

    results = {r.shape: r for r in prompt_shapes.evaluate(suite, model.difficulty_each)}
    for shape, result in results.items():
        assert result.spearman_vs_bare >= prompt_shapes.MIN_SPEARMAN, (shape, result)
        assert result.collapsed == 0, (shape, result)
    # Long shapes really are long: the view, not the whole prompt, reaches the encoder.
    assert results["few_shot"].truncated_share == 1.0
