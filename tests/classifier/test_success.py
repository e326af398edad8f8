"""The one success formula: scalar and array paths agree, the clip, chance and skill term."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tierwise.classifier import success


def test_scalar_and_array_paths_agree() -> None:
    rng = np.random.default_rng(0)
    theta, b = rng.normal(size=4), rng.normal(size=50) * 3
    s, u = rng.normal(size=(50, 8)), rng.normal(size=(4, 8)) * 0.5
    matrix = success.p_success(
        success.success_logit(theta[None, :], b[:, None], 1.7, success.skill_term(s, u)), 0.25
    )
    assert matrix.shape == (50, 4)
    for i in range(50):
        for t in range(4):
            offset = success.skill_term(tuple(s[i]), tuple(u[t]))
            assert isinstance(offset, float)
            z = success.success_logit(float(theta[t]), float(b[i]), 1.7, offset)
            assert isinstance(z, float)
            assert success.p_success(z, 0.25) == pytest.approx(matrix[i, t], abs=1e-14)


def test_formula_values() -> None:
    # a (θ − b) + s·u = 2 (1 − 0.5) + (1·0.5 + 2·(−0.25)) = 1
    z = success.success_logit(1.0, 0.5, 2.0, success.skill_term([1.0, 2.0], [0.5, -0.25]))
    assert z == 1.0
    assert success.p_success(z) == 1 / (1 + math.exp(-1))
    assert success.p_success(z, 0.25) == pytest.approx(0.25 + 0.75 / (1 + math.exp(-1)))
    assert success.skill_term([], [0.5]) == 0.0 == success.skill_term([1.0], [])


def test_clip_keeps_extremes_finite_and_saturated() -> None:
    assert success.p_success(1e6) == 1.0
    tiny = success.p_success(-1e6)
    assert tiny == 1 / (1 + math.exp(success.LOGIT_CLIP)) and 0 < tiny < 1e-25
    arr = success.p_success(np.array([-1e6, 0.0, 1e6]))
    np.testing.assert_array_equal(arr, [tiny, 0.5, 1.0])


def test_log_loss_is_minus_log_likelihood() -> None:
    z = np.array([-3.0, 0.0, 2.5, 40.0])
    y = np.array([0.0, 1.0, 0.3, 1.0])
    p = success.p_success(z[:3])
    expected = -(y[:3] * np.log(p) + (1 - y[:3]) * np.log1p(-p))
    np.testing.assert_allclose(success.log_loss(z, y)[:3], expected, rtol=1e-12)
    assert 0 <= success.log_loss(z, y)[3] < 1e-16
