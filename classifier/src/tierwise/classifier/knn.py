"""Nonparametric difficulty: similarity-weighted kNN over the training queries' IRT difficulties.

b_knn(q) = sum_j w_j b_j / sum_j w_j over the k most cosine-similar training queries j, with
w_j = exp(sim_j / T), plus one pseudo-neighbour at similarity ``prior_sim`` carrying the mean
training difficulty (so a query unlike anything in the training data shrinks to the average
instead of inheriting the difficulty of a distant, arbitrary neighbour).

The same computation is appended to the ONNX graphs (:func:`append_to_onnx`): the query
embedding quantised per call (DynamicQuantizeLinear), MatMulInteger with the stored int8 bank of
training embeddings (one scale per bank row), TopK, Gather, softmax-weighted mean. As an fp32
MatMul the bank (17k × 384 floats, 26 MB) was read from memory on every call: ≈1 ms of the
transformer graph's 2.2 ms on a short query, 0.25 of the fast graph's 0.27 ms; int8 reads a
quarter of it (1.2 ms / 0.12 ms) and moves difficulties by ≈0.01. The final
``difficulty`` output is ``w_mlp * mlp + w_knn * knn + bias`` (the calibration affine folded in).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tierwise.classifier.graph_io import DIFFICULTY, EMBEDDING

# The MLP's difficulty, renamed so the blended value can take the graph output's name.
_MLP_DIFFICULTY = "difficulty_mlp"


@dataclass(frozen=True)
class KnnConfig:
    k: int = 30
    temperature: float = 0.05
    prior_sim: float | None = 0.55


def topk(
    q: np.ndarray, bank: np.ndarray, k: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices) of the k nearest bank rows per query, most similar first.

    ``exclude_self``: q is the bank itself (row i never returns neighbour i; leave-one-out).
    """
    q = np.asarray(q, dtype=np.float32)
    bank = np.asarray(bank, dtype=np.float32)
    k = max(1, min(k, len(bank) - (1 if exclude_self else 0)))
    sims = np.zeros((len(q), k), dtype=np.float32)
    idx = np.zeros((len(q), k), dtype=np.int64)
    for s in range(0, len(q), 2048):
        S = q[s : s + 2048] @ bank.T
        if exclude_self:
            n = S.shape[0]
            S[np.arange(n), np.arange(s, s + n)] = -np.inf
        part = np.argpartition(-S, k - 1, axis=1)[:, :k]
        sv = np.take_along_axis(S, part, 1)
        order = np.argsort(-sv, axis=1, kind="stable")
        idx[s : s + 2048] = np.take_along_axis(part, order, 1)
        sims[s : s + 2048] = np.take_along_axis(sv, order, 1)
    return sims, idx


def weighted(
    sims: np.ndarray, values: np.ndarray, cfg: KnnConfig, prior_value: float
) -> np.ndarray:
    sv = np.asarray(sims, dtype=np.float64)
    vv = np.asarray(values, dtype=np.float64)
    if cfg.prior_sim is not None:
        sv = np.concatenate([sv, np.full((len(sv), 1), cfg.prior_sim)], axis=1)
        vv = np.concatenate([vv, np.full((len(vv), 1), prior_value)], axis=1)
    w = np.exp((sv - sv.max(axis=1, keepdims=True)) / cfg.temperature)
    return np.asarray((w * vv).sum(axis=1) / w.sum(axis=1))


def predict(
    q: np.ndarray, bank: np.ndarray, values: np.ndarray, cfg: KnnConfig, prior_value: float
) -> np.ndarray:
    sims, idx = topk(q, bank, cfg.k)
    return weighted(sims, np.asarray(values)[idx], cfg, prior_value)


def leave_one_out(
    bank: np.ndarray, values: np.ndarray, cfg: KnnConfig, prior_value: float
) -> np.ndarray:
    sims, idx = topk(bank, bank, cfg.k, exclude_self=True)
    return weighted(sims, np.asarray(values)[idx], cfg, prior_value)


def append_to_onnx(
    path: Path,
    bank_fp16: np.ndarray,
    values: np.ndarray,
    cfg: KnnConfig,
    prior_value: float,
    w_mlp: float,
    w_knn: float,
    bias: float,
    quantise: bool = True,
) -> None:
    """Rewrite ``path`` so that difficulty = w_mlp * <old difficulty> + w_knn * kNN + bias.

    The graph contract (inputs, output names, shapes) is unchanged. ``quantise``: store the
    bank int8 ([d, n], symmetric, one scale per training query) and compare in integers;
    otherwise fp16, cast to fp32 once when the session initialises.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        raise ValueError(f"{path}: opset {opset} < 13")
    for node in g.node:
        for i, name in enumerate(node.output):
            if name == DIFFICULTY:
                node.output[i] = _MLP_DIFFICULTY
    for node in g.node:
        for i, name in enumerate(node.input):
            if name == DIFFICULTY:
                node.input[i] = _MLP_DIFFICULTY
    n = len(values)
    k = max(1, min(cfg.k, n))
    p = "knn_"
    inits = [
        numpy_helper.from_array(np.asarray(values, dtype=np.float32), p + "values"),
        numpy_helper.from_array(np.array([k], dtype=np.int64), p + "k"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), p + "axis1"),
        numpy_helper.from_array(np.array(1.0 / cfg.temperature, dtype=np.float32), p + "inv_t"),
        numpy_helper.from_array(np.array(w_mlp, dtype=np.float32), p + "w_mlp"),
        numpy_helper.from_array(np.array(w_knn, dtype=np.float32), p + "w_knn"),
        numpy_helper.from_array(np.array(bias, dtype=np.float32), p + "bias"),
    ]
    bank_t = np.ascontiguousarray(np.asarray(bank_fp16, dtype=np.float32).T)  # [d, n]
    if quantise:
        scale = np.maximum(np.abs(bank_t).max(axis=0), 1e-12) / 127.0
        bank_q = np.clip(np.round(bank_t / scale), -127, 127).astype(np.int8)
        inits += [
            numpy_helper.from_array(bank_q, p + "bank_q"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), p + "bank_zero"),
            numpy_helper.from_array(scale.astype(np.float32), p + "bank_scale"),
        ]
        nodes = [
            helper.make_node(
                "DynamicQuantizeLinear", [EMBEDDING], [p + "q", p + "q_scale", p + "q_zero"]
            ),
            helper.make_node(
                "MatMulInteger",
                [p + "q", p + "bank_q", p + "q_zero", p + "bank_zero"],
                [p + "sims_int"],
            ),
            helper.make_node("Cast", [p + "sims_int"], [p + "sims_raw"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [p + "q_scale", p + "bank_scale"], [p + "sims_scale"]),
            helper.make_node("Mul", [p + "sims_raw", p + "sims_scale"], [p + "sims"]),
        ]
    else:
        inits.append(numpy_helper.from_array(bank_t.astype(np.float16), p + "bank"))
        nodes = [
            helper.make_node("Cast", [p + "bank"], [p + "bank32"], to=TensorProto.FLOAT),
            helper.make_node("MatMul", [EMBEDDING, p + "bank32"], [p + "sims"]),
        ]
    nodes += [
        helper.make_node("TopK", [p + "sims", p + "k"], [p + "top", p + "idx"], axis=-1),
        helper.make_node("Gather", [p + "values", p + "idx"], [p + "vals"], axis=0),
        helper.make_node("ReduceMax", [p + "top"], [p + "max"], axes=[1], keepdims=1),
    ]
    if cfg.prior_sim is not None:
        inits += [
            numpy_helper.from_array(np.array(cfg.prior_sim, dtype=np.float32), p + "s0"),
            numpy_helper.from_array(np.array(prior_value, dtype=np.float32), p + "b0"),
        ]
        nodes += [
            helper.make_node("Max", [p + "max", p + "s0"], [p + "m"]),
            # prior weight w0 = exp((s0 - m) / T)
            helper.make_node("Sub", [p + "s0", p + "m"], [p + "d0"]),
            helper.make_node("Mul", [p + "d0", p + "inv_t"], [p + "z0"]),
            helper.make_node("Exp", [p + "z0"], [p + "w0"]),  # [B, 1]
        ]
    else:
        nodes.append(helper.make_node("Identity", [p + "max"], [p + "m"]))
    nodes += [
        helper.make_node("Sub", [p + "top", p + "m"], [p + "d"]),
        helper.make_node("Mul", [p + "d", p + "inv_t"], [p + "z"]),
        helper.make_node("Exp", [p + "z"], [p + "w"]),
        helper.make_node("Mul", [p + "w", p + "vals"], [p + "wv"]),
        helper.make_node("ReduceSum", [p + "wv", p + "axis1"], [p + "num_k"], keepdims=1),
        helper.make_node("ReduceSum", [p + "w", p + "axis1"], [p + "den_k"], keepdims=1),
    ]
    if cfg.prior_sim is not None:
        nodes += [
            helper.make_node("Mul", [p + "w0", p + "b0"], [p + "wb0"]),
            helper.make_node("Add", [p + "num_k", p + "wb0"], [p + "num"]),
            helper.make_node("Add", [p + "den_k", p + "w0"], [p + "den"]),
        ]
    else:
        nodes += [
            helper.make_node("Identity", [p + "num_k"], [p + "num"]),
            helper.make_node("Identity", [p + "den_k"], [p + "den"]),
        ]
    nodes += [
        helper.make_node("Div", [p + "num", p + "den"], [p + "knn2d"]),
        helper.make_node("Squeeze", [p + "knn2d", p + "axis1"], [p + "knn"]),
        helper.make_node("Mul", [_MLP_DIFFICULTY, p + "w_mlp"], [p + "a"]),
        helper.make_node("Mul", [p + "knn", p + "w_knn"], [p + "b"]),
        helper.make_node("Add", [p + "a", p + "b"], [p + "ab"]),
        helper.make_node("Add", [p + "ab", p + "bias"], [DIFFICULTY]),
    ]
    g.initializer.extend(inits)
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
