"""Ridge regression heads: the simplest head that transfers.

On sources the router never trained on, a ridge from the embedding to IRT difficulty beat
the MLP + kNN + skill-term head (mean leave-one-source-out APGR in the validation report):
the richer head learned which task families each training model wins, which says nothing
about a user's traffic. Closed form, deterministic, and one Linear layer in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RidgeModel:
    weights: np.ndarray  # float64 [d]
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(x, dtype=np.float64) @ self.weights + self.bias)


def fit_ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> RidgeModel:
    """Minimise |y - x w - b|^2 + penalty |w|^2 (the intercept is not penalised)."""
    xd = np.asarray(x, dtype=np.float64)
    yd = np.asarray(y, dtype=np.float64)
    x_mean, y_mean = xd.mean(axis=0), float(yd.mean())
    centred = xd - x_mean
    gram = centred.T @ centred + penalty * np.eye(xd.shape[1])
    weights = np.linalg.solve(gram, centred.T @ (yd - y_mean))
    return RidgeModel(weights=weights, bias=y_mean - float(x_mean @ weights))


def out_of_fold(x: np.ndarray, y: np.ndarray, penalty: float, folds: int, seed: int) -> np.ndarray:
    """Each row predicted by a ridge fitted without its fold (for calibrating the IRT scale
    on difficulties the way unseen queries get them)."""
    fold = np.random.default_rng(seed).permutation(np.arange(len(y)) % folds)
    out = np.zeros(len(y), dtype=np.float64)
    for k in range(folds):
        held = fold == k
        out[held] = fit_ridge(x[~held], y[~held], penalty).predict(x[held])
    return out


def torch_head(model: RidgeModel) -> Any:
    """The ridge as a one-layer torch module, for export into the ONNX graph."""
    import torch
    import torch.nn as nn

    layer = nn.Linear(len(model.weights), 1)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(model.weights.astype(np.float32))[None, :])
        layer.bias.fill_(model.bias)
    return nn.Sequential(layer).eval()
