"""Distil a static (per-token) embedding table from MiniLM, model2vec-style.

Implemented here rather than with ``model2vec.distill`` because that extra (skeletoken) would
downgrade transformers/tokenizers in the shared venv. Same recipe as model2vec:
1. every vocabulary token t is encoded by MiniLM as ``[CLS] t [SEP]`` and mean-pooled;
2. PCA to ``dims`` (256) dimensions;
3. SIF re-weighting ``w_t = a / (a + p_t)`` with token probabilities p_t estimated from the
   training-split queries (add-one smoothed), so frequent glue tokens count less.
At inference: token ids (no special tokens) -> table lookup -> masked mean -> L2 normalise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def fast_tokenizer_json(minilm_tokenizer_json: Path, max_tokens: int) -> str:
    """MiniLM's tokenizer without [CLS]/[SEP] post-processing, truncation at max_tokens."""
    spec = json.loads(minilm_tokenizer_json.read_text(encoding="utf-8"))
    spec["post_processor"] = None
    spec["truncation"] = None
    spec["padding"] = None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(json.dumps(spec))
    tok.enable_truncation(max_length=max_tokens)
    return str(tok.to_str())


def distil_table(
    hf_model: Any,
    tokenizer_json: str,
    corpus: Sequence[str],
    dims: int = 256,
    sif_a: float = 1e-3,
    seed: int = 0,
    batch_size: int = 1024,
) -> np.ndarray:
    import torch
    from sklearn.decomposition import PCA  # type: ignore[import-untyped]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    vocab_size = tok.get_vocab_size()
    vocab = tok.get_vocab()
    cls_id, sep_id = vocab["[CLS]"], vocab["[SEP]"]
    rows = np.zeros((vocab_size, hf_model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, vocab_size, batch_size):
            ids = torch.arange(start, min(vocab_size, start + batch_size), dtype=torch.long)
            n = ids.shape[0]
            inp = torch.stack([torch.full((n,), cls_id), ids, torch.full((n,), sep_id)], dim=1)
            out = hf_model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
            rows[start : start + n] = out.mean(dim=1).numpy()
    pca = PCA(n_components=dims, random_state=seed)
    table = pca.fit_transform(rows).astype(np.float32)
    counts = np.ones(vocab_size, dtype=np.float64)
    for enc in tok.encode_batch(list(corpus)):
        np.add.at(counts, np.asarray(enc.ids, dtype=np.int64), 1.0)
    p = counts / counts.sum()
    weights = sif_a / (sif_a + p)
    table *= weights[:, None].astype(np.float32)
    special = [vocab[t] for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]") if t in vocab]
    table[special] = 0.0
    return np.asarray(table, dtype=np.float32)


def static_embed(table: np.ndarray, tokenizer_json: str, texts: Sequence[str]) -> np.ndarray:
    """Reference numpy implementation of the fast encoder (masked mean + L2 norm)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json)
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for i, enc in enumerate(tok.encode_batch(list(texts))):
        if enc.ids:
            v = table[np.asarray(enc.ids)].astype(np.float32).mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
    return out
