"""Small end-to-end training run into tmp_path (60 rows per source, 1 epoch)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_small_end_to_end(tmp_path: Path) -> None:
    from tierwise.classifier import cli
    from tierwise.classifier.data import default_data_dir
    from tierwise.classifier.runtime import RouterModel

    if not default_data_dir().is_dir():
        pytest.skip("shared training data not present")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli.register(sub)
    out = tmp_path / "bundle"
    args = parser.parse_args(
        ["train", "--output", str(out), "--max-rows-per-source", "60", "--epochs", "1"]
    )
    assert args.handler(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["config"]["max_rows_per_source"] == "60"
    assert set(manifest["encoders"]) == {"transformer", "fast"}
    for enc in ("transformer", "fast"):
        model = RouterModel.load(out, enc)  # type: ignore[arg-type]
        res = model.predict(["What is 2+2?", "Integrate x^2 sin x dx."])
        assert res.difficulty.shape == (2,)
        assert np.all(np.isfinite(res.embedding))
    report = (out / "validation_report.md").read_text()
    assert report.startswith("# Validation report")
    # The headline is generalisation: leave-one-source-out first, then the unseen chat set
    # and the prompt shapes, before any in-distribution number.
    headline = report.index("leave-one-source-out")
    assert headline < report.index("## In distribution")
    assert "unseen chat set" in report and "prompt shapes" in report
    unseen = manifest["generalisation"]["transformer"]
    assert set(unseen["prompt_shapes"]) >= {"bare", "few_shot", "rag", "chat"}
    assert unseen["chat_mean_apgr"]["pairs"] >= 3
    assert "Licences" in (out / "MODEL_CARD.md").read_text()
