"""Stage 2, embeddings: MiniLM sentence embeddings of every item (the IRT prior and features)."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tierwise.classifier import encoders
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData

log = logging.getLogger("tierwise.classifier.train")

_DIM = 384


@dataclass(frozen=True, eq=False)
class Embeddings:
    minilm: np.ndarray  # float32 [n_items, 384], L2-normalised (MiniLM's 256-token window)
    weights_sha256: str
    sanity_cosines: list[float]  # encoders.SANITY_PAIRS through the loaded model


def embed_items(config: TrainConfig, data: TrainingData) -> Embeddings:
    import torch

    # Two threads while embedding; every later step runs on one (see _set_seeds in train.py).
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    model = encoders.load_sentence_transformer()
    sha = encoders.verify_weights(encoders.minilm_dir())
    sanity = encoders.sanity_cosines(model)
    minilm = _cached_embeddings(model, data.texts, sha, config.embedding_cache_dir)
    torch.set_num_threads(1)
    return Embeddings(minilm=minilm, weights_sha256=sha, sanity_cosines=sanity)


def _cached_embeddings(
    model: Any, texts: list[str], weights_sha: str, cache_dir: Path | None
) -> np.ndarray:
    """MiniLM embeddings, reusing a per-text cache (keyed by weights sha + text sha256)."""
    if cache_dir is None:
        return encoders.embed(model, texts)
    root = Path(cache_dir)
    stem = root / f"minilm-{weights_sha[:12]}-bytext"
    keys_path, rows_path = stem.with_suffix(".keys"), stem.with_suffix(".npy")
    keys: list[str] = []
    rows = np.zeros((0, _DIM), dtype=np.float32)
    if keys_path.is_file() and rows_path.is_file():
        keys = keys_path.read_text(encoding="utf-8").split()
        rows = np.asarray(np.load(rows_path), dtype=np.float32)
        if rows.shape != (len(keys), _DIM):
            keys, rows = [], np.zeros((0, _DIM), dtype=np.float32)
    index = {k: i for i, k in enumerate(keys)}
    want = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    missing = sorted({k: i for i, k in enumerate(want) if k not in index}.values())
    if missing:
        new = encoders.embed(model, [texts[i] for i in missing])
        for j, i in enumerate(missing):
            index[want[i]] = len(keys) + j
        keys += [want[i] for i in missing]
        rows = np.concatenate([rows, np.asarray(new, dtype=np.float32)])
        root.mkdir(parents=True, exist_ok=True)
        np.save(rows_path, rows)
        keys_path.write_text("\n".join(keys), encoding="utf-8")
    else:
        log.info("train.embeddings_cached %s", rows_path)
    return np.asarray(rows[[index[k] for k in want]], dtype=np.float32)
