"""Stage 4, features: each encoder's embedding of every item and the heads' input.

The fast encoder is a static token table distilled from MiniLM here, so its embeddings exist
before any head is fitted. Head input = [embedding, standardised log of the tokens the serving
graph sees] (export._router_module explains why the count is there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tierwise.classifier import distill, encoders
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.embeddings import Embeddings


@dataclass(frozen=True, eq=False)
class FastTable:
    table: np.ndarray  # float16 [vocab, fast_dims]
    tokenizer_json: str  # the fast graph's tokenizer (MiniLM's vocabulary, no specials)
    sanity_cosines: list[float]  # encoders.SANITY_PAIRS through the table


@dataclass(frozen=True, eq=False)
class EncoderFeatures:
    embedding: np.ndarray  # float32 [n_items, d], L2-normalised
    head_input: np.ndarray  # float32 [n_items, d + 1]: embedding, standardised log tokens
    length_norm: tuple[float, float]  # mean, sd of log tokens over the items not held out


@dataclass(frozen=True, eq=False)
class Features:
    encoders: dict[str, EncoderFeatures]  # in config.encoder_names order
    fast: FastTable | None  # None with config.skip_fast


def build_features(
    config: TrainConfig, data: TrainingData, embeddings: Embeddings, clock: Clock | None = None
) -> Features:
    fast = None if config.skip_fast else _distil_fast(config, data)
    if fast is not None and clock:
        clock.lap("distil_fast")
    from tokenizers import Tokenizer

    tok_tf = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    tok_tf.no_truncation()
    tok_tf.no_padding()
    # (tokenizer, serving window, whether the graph's tokenizer adds [CLS]/[SEP], embedding)
    windows: dict[str, tuple[Any, int, bool, np.ndarray]] = {
        "transformer": (tok_tf, config.transformer_max_tokens, True, embeddings.minilm)
    }
    if fast is not None:
        tok_fast = Tokenizer.from_str(fast.tokenizer_json)
        tok_fast.no_truncation()
        tok_fast.no_padding()
        fast_x = distill.static_embed(fast.table, fast.tokenizer_json, data.texts)
        windows["fast"] = (tok_fast, config.fast_max_tokens, False, fast_x)
    out: dict[str, EncoderFeatures] = {}
    fitted = ~data.held_out
    for name, (tokenizer, window, specials, x) in windows.items():
        counts = np.array(
            [len(e.ids) for e in tokenizer.encode_batch(data.texts, add_special_tokens=specials)],
            dtype=np.float64,
        )
        log_n = np.log(np.clip(counts, 1, window))
        log_mean = float(np.mean(log_n[fitted]))
        log_sd = float(np.std(log_n[fitted]) + 1e-6)
        length = ((log_n - log_mean) / log_sd)[:, None].astype(np.float32)
        out[name] = EncoderFeatures(
            embedding=x,
            head_input=np.concatenate([x, length], axis=1),
            length_norm=(log_mean, log_sd),
        )
    return Features(encoders=out, fast=fast)


def _distil_fast(config: TrainConfig, data: TrainingData) -> FastTable:
    hf = encoders.load_hf_encoder()
    tokenizer_json = distill.fast_tokenizer_json(
        encoders.minilm_dir() / "tokenizer.json", config.fast_max_tokens
    )
    fitted_texts = [data.texts[i] for i in np.where(~data.held_out)[0]]
    table = distill.distil_table(
        hf, tokenizer_json, fitted_texts, dims=config.fast_dims, seed=config.seed
    ).astype(np.float16)
    del hf
    pairs = distill.static_embed(
        table, tokenizer_json, [p for a, b, _ in encoders.SANITY_PAIRS for p in (a, b)]
    )
    sanity = [float(pairs[0] @ pairs[1]), float(pairs[2] @ pairs[3])]
    return FastTable(table=table, tokenizer_json=tokenizer_json, sanity_cosines=sanity)
