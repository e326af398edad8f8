"""Everyday-prompt sanity of the shipped bundle and the in-graph kNN difficulty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tierwise.classifier.runtime import RouterModel


@pytest.mark.parametrize("encoder", ["transformer", "fast"])
def test_sanity_set_easy_below_hard(encoder: str) -> None:
    pytest.importorskip("torch")
    from tierwise.classifier.train import SANITY_SET

    model = RouterModel.load(None, encoder)  # type: ignore[arg-type]
    d = model.predict([q for q, _ in SANITY_SET]).difficulty.astype(np.float64)
    lab = np.array([lab for _, lab in SANITY_SET])
    assert d[lab == 1].mean() - d[lab == 0].mean() > 0.15, d.round(2).tolist()


# int8 bank: the per-call quantised query and the per-row bank scales cost up to ~0.02 in
# difficulty on these 8-d toy vectors (≈0.01 on the shipped 256/384-d banks).
@pytest.mark.parametrize(("quantise", "tolerance"), [(False, 1e-4), (True, 0.05)])
def test_knn_onnx_matches_numpy(tmp_path: Path, quantise: bool, tolerance: float) -> None:
    onnx = pytest.importorskip("onnx")
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from tierwise.classifier import knn

    d, n = 8, 50
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(n, d)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    values = rng.normal(size=n)
    ax = numpy_helper.from_array(np.array([1], dtype=np.int64), "ax")
    g = helper.make_graph(
        [
            helper.make_node("ReduceSum", ["embedding", "ax"], ["difficulty"], keepdims=0),
        ],
        "g",
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["B", d])],
        [helper.make_tensor_value_info("difficulty", TensorProto.FLOAT, ["B"])],
        [ax],
    )
    path = tmp_path / "t.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    for cfg in (knn.KnnConfig(5, 0.1, None), knn.KnnConfig(100, 0.05, 0.5)):
        p = tmp_path / f"k{cfg.k}.onnx"
        p.write_bytes(path.read_bytes())
        knn.append_to_onnx(
            p, bank.astype(np.float16), values, cfg, 0.3, 0.4, 0.6, 0.1, quantise=quantise
        )
        sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        q = bank[:4] + 0.1 * rng.normal(size=(4, d)).astype(np.float32)
        out = sess.run(["difficulty"], {"embedding": q})[0]
        b16 = bank.astype(np.float16).astype(np.float32)
        ref = 0.4 * q.sum(1) + 0.6 * knn.predict(q, b16, values, cfg, 0.3) + 0.1
        np.testing.assert_allclose(out, ref, atol=tolerance)
