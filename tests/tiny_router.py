"""A tiny router bundle with the real graph contract, built in tests (no training needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

TINY_VOCAB = [
    "[PAD]",
    "[UNK]",
    "what",
    "is",
    "2",
    "+",
    "the",
    "capital",
    "of",
    "france",
    "prove",
    "theorem",
    "integral",
    "manifold",
    "riemann",
    "hypothesis",
    "eigenvalue",
    "topology",
    "hello",
    "write",
    "poem",
    "about",
    "cats",
    "derive",
    "quantum",
    "field",
    "entropy",
]
# Words that push the tiny model's difficulty up; everything else stays easy.
HARD_WORDS = {
    "prove",
    "theorem",
    "integral",
    "manifold",
    "riemann",
    "hypothesis",
    "eigenvalue",
    "topology",
    "derive",
    "quantum",
    "field",
    "entropy",
}
TINY_DIM = 4
TINY_MAX_TOKENS = 16
TINY_SKILLS = 2
# The tiny graph's skill profile is (embedding[2], embedding[3]) scaled by 4: 0 for most words.
TINY_SKILL_WEIGHTS = np.array([[0.0, 0.0], [0.0, 0.0], [4.0, 0.0], [0.0, 4.0]], np.float32)

TEST_POLICY = """\
version = "test-policy-1"
quality_target = 0.8
discrimination = 1.0

[tiers.self-hosted]
ability = 0.5
[tiers.haiku]
ability = 1.5
[tiers.sonnet]
ability = 3.0
[tiers.opus]
ability = 4.0
"""


def _tiny_graph() -> onnx.ModelProto:
    """Embedding lookup → masked mean → L2 norm → linear heads, as the real graph's contract."""
    vocab = len(TINY_VOCAB)
    table = np.zeros((vocab, TINY_DIM), dtype=np.float32)
    for index, word in enumerate(TINY_VOCAB):
        table[index, 0] = 1.0  # every word has some "generic" mass
        table[index, 1] = 3.0 if word in HARD_WORDS else 0.0
        table[index, 2] = 0.1 * (index % 3)
    table[1] = [0.0, 0.0, 0.0, 1.0]  # [UNK]: far from the centroids -> out of distribution
    centroids = np.array([[1.0, 0.0, 0.0, 0.0], [0.3, 0.95, 0.0, 0.0]], dtype=np.float32)
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["tok"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["tok", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "one"], ["count1"]),
        helper.make_node("Div", ["summed", "count1"], ["mean"]),
        helper.make_node("Mul", ["mean", "mean"], ["sq"]),
        helper.make_node("ReduceSum", ["sq", "axis1"], ["sqsum"], keepdims=1),
        helper.make_node("Add", ["sqsum", "eps"], ["sqsum_eps"]),
        helper.make_node("Sqrt", ["sqsum_eps"], ["norm"]),
        helper.make_node("Div", ["mean", "norm"], ["embedding"]),
        helper.make_node("MatMul", ["embedding", "w_difficulty"], ["d2"]),
        helper.make_node("Add", ["d2", "b_difficulty"], ["d2b"]),
        helper.make_node("Squeeze", ["d2b", "axis1"], ["difficulty"]),
        helper.make_node("MatMul", ["embedding", "w_length"], ["l2"]),
        helper.make_node("Add", ["l2", "b_length"], ["l2b"]),
        helper.make_node("Squeeze", ["l2b", "axis1"], ["log_output_tokens"]),
        helper.make_node("MatMul", ["embedding", "centroids_t"], ["sims"]),
        helper.make_node("ReduceMax", ["sims"], ["centroid_similarity"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["embedding", "w_skills"], ["skills"]),
    ]
    initializers = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"),
        numpy_helper.from_array(np.array([1e-12], dtype=np.float32), "eps"),
        numpy_helper.from_array(np.array([[0.0], [5.0], [0.0], [0.0]], np.float32), "w_difficulty"),
        numpy_helper.from_array(np.array([-1.0], dtype=np.float32), "b_difficulty"),
        numpy_helper.from_array(np.array([[0.0], [1.5], [0.0], [0.0]], np.float32), "w_length"),
        numpy_helper.from_array(np.array([4.0], dtype=np.float32), "b_length"),
        numpy_helper.from_array(centroids.T.copy(), "centroids_t"),
        numpy_helper.from_array(TINY_SKILL_WEIGHTS, "w_skills"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_router",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [
            helper.make_tensor_value_info("difficulty", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("log_output_tokens", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("centroid_similarity", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", TINY_DIM]),
            helper.make_tensor_value_info("skills", TensorProto.FLOAT, ["batch", TINY_SKILLS]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_tiny_bundle(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(_tiny_graph(), directory / "router.onnx")
    vocab = {word: index for index, word in enumerate(TINY_VOCAB)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(directory / "tokenizer.json"))
    spec = {
        "graph": "router.onnx",
        "tokenizer": "tokenizer.json",
        "max_tokens": TINY_MAX_TOKENS,
        "embedding_dim": TINY_DIM,
        "ood": {"centroid_similarity_threshold": 0.5},
    }
    manifest = {
        "schema_version": 2,
        "router_version": "tiny-test-router",
        # The packaged tier table's anchor models, so the tiny bundle has a default policy too.
        "irt": {
            "scale": 1.0,
            "model_abilities": {"mixtral-8x7b-instruct": 0.5, "gpt-4-1106-preview": 3.0},
        },
        "skills": {
            "dims": TINY_SKILLS,
            "model_profiles": {
                "mixtral-8x7b-instruct": [0.0] * TINY_SKILLS,
                "gpt-4-1106-preview": [0.5] * TINY_SKILLS,
            },
        },
        "encoders": {"transformer": spec, "fast": spec},
        "output_length": {"median_tokens": 60.0},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return directory
