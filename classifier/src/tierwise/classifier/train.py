"""End-to-end training: the pipeline's stages in order, then the bundle installed.

data -> embeddings -> targets -> features -> heads -> graphs -> manifest -> report -> install;
see tierwise.classifier.pipeline for what each stage takes and returns.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.classifier import encoders
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import load_training_data
from tierwise.classifier.pipeline.embeddings import embed_items
from tierwise.classifier.pipeline.features import build_features
from tierwise.classifier.pipeline.graphs import export_graphs
from tierwise.classifier.pipeline.heads import fit_heads
from tierwise.classifier.pipeline.install import install_bundle
from tierwise.classifier.pipeline.manifest import write_manifest
from tierwise.classifier.pipeline.metrics import PAIRS
from tierwise.classifier.pipeline.report import SANITY_SET, report_bundle
from tierwise.classifier.pipeline.targets import fit_targets

__all__ = ["PAIRS", "SANITY_SET", "TrainConfig", "TrainResult", "train"]


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    wall_time_s: float
    files: dict[str, int] = field(default_factory=dict)  # bundle file -> bytes


def train(config: TrainConfig) -> TrainResult:
    clock = Clock()
    encoders.offline()
    _set_seeds(config.seed)
    out_dir = Path(config.output_dir) if config.output_dir else Path(__file__).parent / "shipped"
    data = load_training_data(config)
    clock.lap("data")
    embeddings = embed_items(config, data)
    clock.lap("embed_minilm")
    targets = fit_targets(config, data, embeddings, clock)
    features = build_features(config, data, embeddings, clock)
    heads = fit_heads(config, data, targets, features, clock)
    workdir = Path(tempfile.mkdtemp(prefix="tierwise-train-"))
    try:
        graphs = export_graphs(config, targets, features, heads, workdir, clock)
        bundle = write_manifest(config, data, embeddings, targets, heads, graphs)
        report = report_bundle(config, data, targets, features, heads, bundle, clock)
        files = install_bundle(bundle.directory, out_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return TrainResult(
        output_dir=out_dir,
        manifest=report.manifest,
        metrics=report.metrics,
        wall_time_s=clock.elapsed_s(),
        files=files,
    )


def _set_seeds(seed: int) -> None:
    import random

    import torch

    # The heads and the IRT fit are tiny ops: one thread avoids OpenMP oversubscription stalls
    # on a busy 2-core box (the MiniLM embedding step raises it again).
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
