"""Stage 3, targets: what the heads learn — IRT difficulty per training item, output length."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier import encoders, irt
from tierwise.classifier.pipeline.clock import Clock
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.pipeline.data import TrainingData
from tierwise.classifier.pipeline.embeddings import Embeddings


@dataclass(frozen=True, eq=False)
class Targets:
    # Rows of observations / outcomes / difficulty are the items data.train_idx, in order.
    observations: irt.Observations
    outcomes: irt.OutcomeMatrix  # columns = observations.models
    irt_fit: irt.IRTFit  # joint fit: abilities theta and per-item difficulty b
    log_output_tokens: np.ndarray  # float64 [n_items], NaN where no response length is known
    length_train_idx: np.ndarray  # int64 items with a length target that are not held out
    length_held_out_idx: np.ndarray  # int64 items with a length target that are held out

    @property
    def difficulty(self) -> np.ndarray:
        """float64 [len(train_idx)]: the IRT difficulty b_i the difficulty head regresses on."""
        return self.irt_fit.b

    @property
    def models(self) -> tuple[str, ...]:
        return self.observations.models


def fit_targets(
    config: TrainConfig, data: TrainingData, embeddings: Embeddings, clock: Clock | None = None
) -> Targets:
    """IRT fit on the training items' outcomes (guessing floors per ``config``); response
    lengths of every item."""
    items = data.items
    outcomes = [items[i].outcomes for i in data.train_idx]
    chances = [items[i].chance if config.guessing_floors else 0.0 for i in data.train_idx]
    obs = irt.build_observations(outcomes, chances)
    fit = irt.fit_irt(obs, embeddings.minilm[data.train_idx])
    if clock:
        clock.lap("irt")
    length = _log_output_tokens(items)
    known = ~np.isnan(length)
    targets = Targets(
        observations=obs,
        outcomes=irt.outcome_matrix(outcomes, chances, obs.models),
        irt_fit=fit,
        log_output_tokens=length,
        length_train_idx=np.where(known & ~data.held_out)[0],
        length_held_out_idx=np.where(known & data.held_out)[0],
    )
    if clock:
        clock.lap("length_targets")
    return targets


def _log_output_tokens(items: list[data_mod.Item]) -> np.ndarray:
    """log(MiniLM WordPiece tokens) of each item's responses / reference solutions, or NaN."""
    from tokenizers import Tokenizer

    wordpiece = Tokenizer.from_file(str(encoders.minilm_dir() / "tokenizer.json"))
    wordpiece.no_truncation()
    wordpiece.no_padding()

    def count(s: str) -> int:
        return len(wordpiece.encode(s, add_special_tokens=False).ids)

    return np.array(
        [v if (v := data_mod.output_log_tokens(it, count)) is not None else np.nan for it in items]
    )
