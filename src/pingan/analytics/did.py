"""Difference-in-differences on a panel of areas x time steps.

The model is the two-group, two-period regression
``y = a + b*treated + c*post + d*treated*post + e`` fitted by OLS on every
(area, step) cell; ``d`` is the effect. With four saturated groups ``d`` is
the difference of the groups' mean changes, which is what this computes.
Standard errors are the classical OLS ones (``se="classical"``), or
cluster-robust by area (``se="cluster"``, CR1 with G-1 degrees of freedom)
because counts of one area are correlated over time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DidResult:
    effect: float  # change per area and step attributable to the treatment
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: int
    confidence: float
    treated_pre: float  # mean per area and step
    treated_post: float
    control_pre: float
    control_post: float
    counterfactual_post: float  # treated_pre + the controls' change
    relative_effect: float | None  # effect / counterfactual_post
    se_kind: str


def did(
    y: FloatArray,
    treated: BoolArray,
    post: BoolArray,
    *,
    confidence: float = 0.95,
    se: Literal["classical", "cluster"] = "classical",
) -> DidResult:
    """The effect of the treatment on ``y`` (areas x steps) with a confidence interval."""
    y = np.asarray(y, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    if y.ndim != 2 or y.shape != (treated.size, post.size):
        raise ValueError("y must be areas x steps, matching treated and post")
    if not (treated.any() and (~treated).any()):
        raise ValueError("difference-in-differences needs treated and control areas")
    if not (post.any() and (~post).any()):
        raise ValueError("difference-in-differences needs steps before and after")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie between 0 and 1")
    groups = {
        (t, p): y[np.ix_(treated == t, post == p)] for t in (True, False) for p in (True, False)
    }
    means = {key: float(block.mean()) for key, block in groups.items()}
    effect = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    n = y.size
    if se == "classical":
        ssr = sum(float(((block - means[key]) ** 2).sum()) for key, block in groups.items())
        df = n - 4
        if df < 1:
            raise ValueError("too few observations for a standard error")
        sigma2 = ssr / df
        variance = sigma2 * sum(1.0 / block.size for block in groups.values())
    else:
        variance, df = _cluster_variance(y, treated, post)
    std_err = float(np.sqrt(variance))
    q = float(stats.t.ppf(0.5 + confidence / 2, df))
    p_value = 1.0 if std_err == 0 else float(2 * stats.t.sf(abs(effect) / std_err, df))
    if std_err == 0 and effect != 0:
        p_value = 0.0
    counterfactual = means[True, False] + (means[False, True] - means[False, False])
    return DidResult(
        effect=effect,
        se=std_err,
        ci_low=effect - q * std_err,
        ci_high=effect + q * std_err,
        p_value=p_value,
        df=df,
        confidence=confidence,
        treated_pre=means[True, False],
        treated_post=means[True, True],
        control_pre=means[False, False],
        control_post=means[False, True],
        counterfactual_post=counterfactual,
        relative_effect=None if counterfactual <= 0 else effect / counterfactual,
        se_kind=se,
    )


def design(treated: BoolArray, post: BoolArray) -> FloatArray:
    """The regression's design matrix, rows in (area, step) order: 1, T, P, T*P."""
    t = np.repeat(np.asarray(treated, float), post.size)
    p = np.tile(np.asarray(post, float), treated.size)
    return np.column_stack([np.ones_like(t), t, p, t * p])


def _cluster_variance(y: FloatArray, treated: BoolArray, post: BoolArray) -> tuple[float, int]:
    x = design(treated, post)
    flat = y.reshape(-1)
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ x.T @ flat
    resid = flat - x @ beta
    areas, steps = y.shape
    meat = np.zeros((4, 4))
    for g in range(areas):
        rows = slice(g * steps, (g + 1) * steps)
        score = x[rows].T @ resid[rows]
        meat += np.outer(score, score)
    n, k = flat.size, 4
    if areas < 2:
        raise ValueError("cluster-robust errors need at least two areas")
    scale = areas / (areas - 1) * (n - 1) / (n - k)
    cov = scale * xtx_inv @ meat @ xtx_inv
    return float(cov[3, 3]), areas - 1
