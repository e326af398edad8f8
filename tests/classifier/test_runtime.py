"""Runtime contract tests against the shipped bundle (no torch needed except where marked)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tierwise.classifier.runtime import (
    Manifest,
    ModelLoadError,
    RouterModel,
    RouterOutputs,
    default_bundle_dir,
)

EASY = "What is 2+2?"
HARD = (
    "Prove that for every positive integer n, the number of partitions of n into distinct "
    "parts equals the number of partitions of n into odd parts, and determine all n for "
    "which the sum over k of (-1)^k p(n - k(3k-1)/2) vanishes, using generating functions."
)
QUERIES = [
    EASY,
    HARD,
    "How do I reverse a linked list?",
    "Write a haiku about autumn.",
    "",
]


@pytest.fixture(scope="module", params=["transformer", "fast"])
def model(request: pytest.FixtureRequest) -> RouterModel:
    return RouterModel.load(encoder=request.param)


def test_shipped_bundle_files_exist() -> None:
    root = default_bundle_dir()
    for name in (
        "manifest.json",
        "router.onnx",
        "router_fast.onnx",
        "tokenizer.json",
        "tokenizer_fast.json",
        "MODEL_CARD.md",
        "validation_report.md",
    ):
        path = root / name
        assert path.is_file(), name
        assert path.stat().st_size < 50 * 1024 * 1024, name


def test_manifest_typed_view() -> None:
    m = Manifest.from_file(default_bundle_dir() / "manifest.json")
    assert m.schema_version == 2
    assert m.router_version
    mixtral, gpt4 = "mixtral-8x7b-instruct", "gpt-4-1106-preview"
    t = m.model_abilities
    assert t[mixtral] < t[gpt4]
    assert 0 < m.irt_scale < 5
    assert set(m.encoders) == {"transformer", "fast"}
    assert m.encoders["transformer"].max_tokens == 128
    p = m.p_success(np.array([0.0, 5.0]), gpt4)
    assert p.shape == (2,) and p[0] > p[1]
    # The shipped recipe has no skill term (chosen by leave-one-source-out; model card).
    assert m.skill_dims == 0 and not m.model_profiles


def test_skill_term_moves_odds_by_exp_s_dot_u() -> None:
    """A bundle trained with a skill term (TrainConfig.skill_dims > 0) applies it this way."""
    raw = json.loads((default_bundle_dir() / "manifest.json").read_text())
    gpt4 = "gpt-4-1106-preview"
    raw["skills"] = {
        "dims": 2,
        "model_profiles": {model: [0.3, -0.2] for model in raw["irt"]["model_abilities"]},
    }
    m = Manifest._parse(raw)
    assert m.skill_dims == 2 and set(m.model_profiles) == set(m.model_abilities)
    b = np.array([0.0, 5.0])
    p = m.p_success(b, gpt4)
    s = np.ones((2, m.skill_dims))
    u = np.asarray(m.model_profiles[gpt4])
    with_skills = m.p_success(b, gpt4, skills=s)
    odds = lambda q: q / (1 - q)  # noqa: E731
    np.testing.assert_allclose(odds(with_skills) / odds(p), np.exp(s @ u), rtol=1e-9)


def test_output_contract(model: RouterModel) -> None:
    out = model.predict(QUERIES)
    assert isinstance(out, RouterOutputs)
    n, d = len(QUERIES), model.spec.embedding_dim
    for name in ("difficulty", "log_output_tokens", "centroid_similarity"):
        arr = getattr(out, name)
        assert arr.shape == (n,) and arr.dtype == np.float32, name
        assert np.all(np.isfinite(arr)), name
    assert out.embedding.shape == (n, d) and out.embedding.dtype == np.float32
    k = model.manifest.skill_dims
    assert out.skills.shape == (n, k) and out.skills.dtype == np.float32
    assert np.all(np.isfinite(out.skills))
    norms = np.linalg.norm(out.embedding[:-1], axis=1)  # last one is the empty string
    np.testing.assert_allclose(norms, 1.0, atol=1e-3)
    assert out.n_tokens.dtype == np.int64 and out.truncated.dtype == np.bool_
    assert not out.truncated.any()
    assert np.all(out.centroid_similarity <= 1.0001)


def test_batch_equals_single(model: RouterModel) -> None:
    # Dynamic int8 quantisation computes activation ranges per call (over the whole padded
    # batch), so batching shifts outputs slightly: the transformer's encoder (measured up to
    # ~0.15) and both graphs' kNN query (measured ~0.01).
    tol = 0.3 if model.encoder == "transformer" else 0.05
    batch = model.predict(QUERIES[:3])
    for i, q in enumerate(QUERIES[:3]):
        one = model.predict([q])
        np.testing.assert_allclose(one.difficulty[0], batch.difficulty[i], atol=tol)
        assert float(one.embedding[0] @ batch.embedding[i]) > 0.98


def test_hard_query_is_harder(model: RouterModel) -> None:
    out = model.predict([EASY, HARD])
    assert out.difficulty[1] > out.difficulty[0]
    assert out.log_output_tokens[1] > out.log_output_tokens[0]


def test_truncation_flag(model: RouterModel) -> None:
    long = "word " * (model.spec.max_tokens + 50)
    out = model.predict([long, EASY])
    assert out.truncated.tolist() == [True, False]
    assert out.n_tokens[0] > model.spec.max_tokens


def test_empty_input(model: RouterModel) -> None:
    out = model.predict([])
    assert out.difficulty.shape == (0,)
    assert out.embedding.shape == (0, model.spec.embedding_dim)
    assert out.skills.shape == (0, model.manifest.skill_dims)


def test_concurrent_predict(model: RouterModel) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ref = model.predict(QUERIES[:4]).difficulty
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: model.predict(QUERIES[:4]).difficulty, range(16)))
    for o in outs:
        np.testing.assert_allclose(o, ref, atol=1e-5)


def test_load_is_fast() -> None:
    t = time.perf_counter()
    RouterModel.load(encoder="transformer")
    assert time.perf_counter() - t < 2.0  # < 1 s typical; margin for a busy 2-core box


def _copy_bundle(tmp_path: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(default_bundle_dir(), dst)
    return dst


@pytest.mark.parametrize(
    ("victim", "action"),
    [
        ("manifest.json", "delete"),
        ("manifest.json", "corrupt"),
        ("router.onnx", "delete"),
        ("router.onnx", "corrupt"),
        ("tokenizer.json", "delete"),
        ("tokenizer.json", "corrupt"),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, victim: str, action: str) -> None:
    root = _copy_bundle(tmp_path)
    path = root / victim
    if action == "delete":
        path.unlink()
    else:
        path.write_bytes(b"\x00not what you expected{")
    with pytest.raises(ModelLoadError, match=victim.replace(".", r"\.")):
        RouterModel.load(root, "transformer")


def test_manifest_missing_key(tmp_path: Path) -> None:
    root = _copy_bundle(tmp_path)
    raw = json.loads((root / "manifest.json").read_text())
    del raw["irt"]["model_abilities"]
    (root / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelLoadError, match=r"manifest\.json"):
        RouterModel.load(root)


def test_missing_bundle_dir(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="bundle directory"):
        RouterModel.load(tmp_path / "nope")


def test_runtime_import_does_not_import_torch() -> None:
    code = (
        "import sys, tierwise.classifier.runtime as r; "
        "m = r.RouterModel.load(); m.predict(['hi']); "
        "bad = [k for k in ('torch', 'sentence_transformers', 'transformers', 'sklearn') "
        "if k in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_manifest_skill_profiles_must_match_dims(tmp_path: Path) -> None:
    root = _copy_bundle(tmp_path)
    raw = json.loads((root / "manifest.json").read_text())
    dims = 2
    raw["skills"]["dims"] = dims
    raw["skills"]["model_profiles"] = {m: [0.0] * dims for m in raw["irt"]["model_abilities"]}
    raw["skills"]["model_profiles"]["gpt-4-1106-preview"] = [0.0]
    (root / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelLoadError, match=r"skills\.model_profiles\.gpt-4-1106-preview"):
        RouterModel.load(root)


def test_graph_skill_width_must_match_manifest(tmp_path: Path) -> None:
    root = _copy_bundle(tmp_path)
    raw = json.loads((root / "manifest.json").read_text())
    dims = raw["skills"]["dims"] + 1
    raw["skills"]["dims"] = dims
    raw["skills"]["model_profiles"] = {m: [0.0] * dims for m in raw["irt"]["model_abilities"]}
    (root / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelLoadError, match="skills output"):
        RouterModel.load(root)


def test_solo_session_serves_lone_calls_with_the_same_numbers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    single = RouterModel.load(encoder="transformer")
    solo = RouterModel.load(encoder="transformer", solo_intra_op_threads=2)
    assert single._solo_session is None and solo._solo_session is not None
    ref = single.predict(QUERIES[:4])
    alone = solo.predict(QUERIES[:4])
    np.testing.assert_allclose(alone.difficulty, ref.difficulty, atol=1e-4)
    np.testing.assert_allclose(alone.skills, ref.skills, atol=1e-4)
    # Overlapping calls fall back to the one-thread session; every answer stays the same and
    # the in-flight count returns to zero.
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: solo.predict(QUERIES[:4]).difficulty, range(16)))
    for out in outs:
        np.testing.assert_allclose(out, ref.difficulty, atol=1e-4)
    assert solo._running == 0
    # Not more threads than the concurrent session: no second session.
    assert RouterModel.load(encoder="fast", solo_intra_op_threads=1)._solo_session is None


def test_concurrency_probe_keeps_busy_servers_on_one_thread() -> None:
    model = RouterModel.load(encoder="fast", solo_intra_op_threads=2)
    solo = model._solo_session
    assert solo is not None
    calls: list[str] = []

    class Spy:
        def run(self, *args: object) -> object:
            calls.append("solo")
            return solo.run(*args)  # type: ignore[arg-type]

    model._solo_session = Spy()  # type: ignore[assignment]
    in_flight = 1
    model.use_concurrency_probe(lambda: in_flight)
    model.predict([EASY])
    assert calls == ["solo"]
    in_flight = 3  # other requests in the server: the one-thread session serves this call
    model.predict([EASY])
    assert calls == ["solo"]


@pytest.mark.parametrize("skills", [None, {"dims": 0}])
def test_manifest_without_a_skill_term(skills: dict[str, int] | None) -> None:
    raw = json.loads((default_bundle_dir() / "manifest.json").read_text())
    if skills is None:
        del raw["skills"]
    else:
        raw["skills"] = skills
    raw.pop("tier_abilities", None)
    m = Manifest._parse(raw)
    assert m.skill_dims == 0 and not m.model_profiles
    p = m.p_success(np.array([0.0]), "gpt-4-1106-preview", skills=np.zeros((1, 0)))
    assert 0 < p[0] < 1
