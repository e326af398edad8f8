"""Training stages called alone (no graphs exported) and the shared formula / I/O contracts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tierwise.classifier import graph_io, irt, runtime


def test_graph_io_names_are_the_runtime_contract() -> None:
    assert runtime.INPUT_NAMES == graph_io.INPUT_NAMES
    assert runtime.OUTPUT_NAMES == graph_io.OUTPUT_NAMES
    fields = {f.name for f in dataclasses.fields(runtime.RouterOutputs)}
    assert set(graph_io.OUTPUT_NAMES) <= fields


@pytest.mark.parametrize("encoder", ["transformer", "fast"])
def test_shipped_graphs_use_graph_io_names(encoder: str) -> None:
    import onnxruntime as ort

    spec = runtime.Manifest.from_file(runtime.default_bundle_dir() / "manifest.json").encoders[
        encoder
    ]
    session = ort.InferenceSession(str(runtime.default_bundle_dir() / spec.graph))
    assert tuple(i.name for i in session.get_inputs()) == graph_io.INPUT_NAMES
    assert tuple(o.name for o in session.get_outputs()) == graph_io.OUTPUT_NAMES


def test_outcome_matrix_columns_follow_models() -> None:
    m = irt.outcome_matrix(
        [{"b": 1.0, "a": 0.0}, {"c": 1.0}, {"a": 0.5}], [0.25, 0.0, 0.2], ("a", "b")
    )
    np.testing.assert_array_equal(m.y, [[0.0, 1.0], [0.0, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(m.mask, [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(m.chance, [0.25, 0.0, 0.2])
    assert m.y.dtype == m.mask.dtype == m.chance.dtype == np.float32


def test_success_logit_and_probability() -> None:
    theta = np.array([0.0, 2.0])
    b = np.array([1.0, -1.0, 0.5])
    logit = irt.success_logit(0.5, theta, b)
    np.testing.assert_allclose(logit, 0.5 * (theta[None, :] - b[:, None]))
    skills = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    u = np.array([[0.1, 0.2], [0.3, -0.4]])
    np.testing.assert_allclose(irt.success_logit(0.5, theta, b, skills, u), logit + skills @ u.T)
    with pytest.raises(ValueError, match="profiles"):
        irt.success_logit(0.5, theta, b, skills)
    chance = np.array([0.25, 0.0, 0.0])
    p = irt.success_probability(np.array([[0.0, 100.0], [-100.0, 0.0], [0.0, 0.0]]), chance)
    np.testing.assert_allclose(p, [[0.625, 1.0], [0.0, 0.5], [0.5, 0.5]], atol=1e-12)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_stages_run_alone_with_another_hold_out() -> None:
    """A leave-one-source-out style run: data -> embeddings -> targets -> features -> heads."""
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    from tierwise.classifier.data import default_data_dir
    from tierwise.classifier.pipeline.config import TrainConfig
    from tierwise.classifier.pipeline.data import TrainingData, load_training_data
    from tierwise.classifier.pipeline.embeddings import embed_items
    from tierwise.classifier.pipeline.features import build_features
    from tierwise.classifier.pipeline.heads import fit_heads
    from tierwise.classifier.pipeline.targets import fit_targets

    if not default_data_dir().is_dir():
        pytest.skip("shared training data not present")
    config = TrainConfig(max_rows_per_source=20, skip_fast=True, head_epochs=1, skill_epochs=1)
    split = load_training_data(config)
    gsm8k = np.array(["routellm-gsm8k" in it.sources for it in split.items])
    assert 0 < gsm8k.sum() < len(gsm8k)
    data = TrainingData.with_held_out(split.data_dir, split.dataset, gsm8k)
    assert not any("routellm-gsm8k" in data.items[i].sources for i in data.train_idx)
    assert all("routellm-gsm8k" in data.items[i].sources for i in data.held_out_idx)
    with pytest.raises(ValueError, match="held_out"):
        TrainingData.with_held_out(split.data_dir, split.dataset, gsm8k[:-1])

    embeddings = embed_items(config, data)
    targets = fit_targets(config, data, embeddings)
    features = build_features(config, data, embeddings)
    heads = fit_heads(config, data, targets, features)

    n = len(data.items)
    assert embeddings.minilm.shape == (n, 384)
    assert targets.difficulty.shape == (len(data.train_idx),)
    assert targets.outcomes.y.shape == (len(data.train_idx), len(targets.models))
    assert list(features.encoders) == ["transformer"] and features.fast is None
    assert features.encoders["transformer"].head_input.shape == (n, 385)
    fitted = heads.encoders["transformer"]
    assert fitted.difficulty_oof.shape == (len(data.train_idx),)
    assert np.all(np.isfinite(fitted.difficulty_oof))
    assert heads.abilities.profiles.shape == (len(targets.models), config.skill_dims)
    assert heads.abilities.scale > 0
