"""Stage 1, data: the items and which of them are held out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tierwise.classifier import data as data_mod
from tierwise.classifier.pipeline.config import TrainConfig
from tierwise.classifier.prompt_view import text_view


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Every item; the held-out ones are scored, never fitted on."""

    data_dir: Path
    dataset: data_mod.Dataset
    texts: list[str]  # [n_items]: what the encoder reads of each query (see prompt_view)
    held_out: np.ndarray  # bool [n_items]
    train_idx: np.ndarray  # int64: items with outcomes that the targets and heads fit on
    held_out_idx: np.ndarray  # int64: items with outcomes that are held out

    @property
    def items(self) -> list[data_mod.Item]:
        return self.dataset.items

    @classmethod
    def with_held_out(
        cls,
        data_dir: Path,
        dataset: data_mod.Dataset,
        held_out: np.ndarray,
        prompt_view: bool = True,
    ) -> TrainingData:
        """Any hold-out (e.g. one source family for a leave-one-source-out evaluation)."""
        held_out = np.asarray(held_out, dtype=bool)
        if held_out.shape != (len(dataset.items),):
            raise ValueError(f"held_out has shape {held_out.shape}, want ({len(dataset.items)},)")
        has_outcomes = np.array([bool(it.outcomes) for it in dataset.items], dtype=bool)
        return cls(
            data_dir=data_dir,
            dataset=dataset,
            texts=[text_view(it.text).text if prompt_view else it.text for it in dataset.items],
            held_out=held_out,
            train_idx=np.where(has_outcomes & ~held_out)[0],
            held_out_idx=np.where(has_outcomes & held_out)[0],
        )


def load_training_data(config: TrainConfig) -> TrainingData:
    """The shared data with the validation split (a hash of each query's text) held out."""
    data_dir = Path(config.data_dir) if config.data_dir else data_mod.default_data_dir()
    dataset = data_mod.load_dataset(data_dir, config.max_rows_per_source)
    held_out = np.array([it.is_validation for it in dataset.items])
    return TrainingData.with_held_out(data_dir, dataset, held_out, config.prompt_view)
