"""ONNX (int8, shipped) vs torch/sentence-transformers agreement. Needs the train extra."""

from __future__ import annotations

import numpy as np
import pytest

from tierwise.classifier.runtime import RouterModel

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

QUERIES = [
    "What is 2+2?",
    "How do I reverse a linked list?",
    "Explain the difference between TCP and UDP in networking.",
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast. How many are left?",
    "Prove that the square root of 2 is irrational.",
    "Which of the following is a primary colour? A. green B. red C. purple D. orange",
]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_shipped_transformer_matches_torch() -> None:
    from tierwise.classifier import encoders

    st = encoders.load_sentence_transformer()
    ref = encoders.embed(st, QUERIES)
    out = RouterModel.load(encoder="transformer").predict(QUERIES)
    cos = np.sum(ref * out.embedding, axis=1)
    assert cos.min() >= 0.97, cos
