"""Briefing statistics against their peers, in the same run.

1. The exact conditional test for two counts (``reports.stats``) against
   ``scipy.stats.binomtest`` on the same (k, n, p) triples: p-values must agree.
2. The difference-in-differences kernel (``analytics.did``, classical errors)
   against OLS with an interaction fitted by ``numpy.linalg.lstsq`` (effect and
   standard error must agree).

    .venv/bin/python benchmarks/reports_stats.py [--tests 5000] [--areas 400 --steps 104]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import binomtest

from pingan.analytics.did import design, did
from pingan.reports.stats import binomial_two_sided_p


def _best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--areas", type=int, default=400)
    parser.add_argument("--steps", type=int, default=104)
    args = parser.parse_args()
    rng = np.random.default_rng(9)
    n = rng.integers(1, 3000, size=args.tests)
    k = (rng.random(args.tests) * (n + 1)).astype(int)
    p = rng.uniform(0.3, 0.7, size=args.tests)
    ours_p: list[float] = []
    peer_p: list[float] = []
    t_ours = _best(lambda: ours_p.__setitem__(slice(None), [
        binomial_two_sided_p(int(a), int(b), float(c)) for a, b, c in zip(k, n, p, strict=True)
    ]))  # fmt: skip
    t_peer = _best(lambda: peer_p.__setitem__(slice(None), [
        binomtest(int(a), int(b), float(c)).pvalue for a, b, c in zip(k, n, p, strict=True)
    ]))  # fmt: skip
    gap = float(np.max(np.abs(np.array(ours_p) - np.array(peer_p))))
    print(f"count tests: {args.tests:,} (n up to 3,000)")
    print(f"  ours  {t_ours:8.3f} s   scipy.stats.binomtest {t_peer:8.3f} s   "
          f"peer/ours {t_peer / t_ours:5.2f} x   max |dp| {gap:.1e}")  # fmt: skip

    treated = np.zeros(args.areas, dtype=bool)
    treated[: args.areas // 10] = True
    post = np.arange(args.steps) >= args.steps // 2
    y = rng.poisson(8.0, size=(args.areas, args.steps)).astype(float)
    result = None

    def ours() -> None:
        nonlocal result
        result = did(y, treated, post)

    fit: list[float] = []

    def peer() -> None:
        x = design(treated, post)
        flat = y.reshape(-1)
        beta, *_ = np.linalg.lstsq(x, flat, rcond=None)
        resid = flat - x @ beta
        cov = resid @ resid / (flat.size - 4) * np.linalg.inv(x.T @ x)
        fit[:] = [float(beta[3]), float(np.sqrt(cov[3, 3]))]

    t_ours, t_peer = _best(ours), _best(peer)
    assert result is not None
    print(f"difference-in-differences: {args.areas} areas x {args.steps} steps")
    print(f"  ours  {t_ours * 1e3:8.2f} ms  numpy lstsq OLS       {t_peer * 1e3:8.2f} ms  "
          f"peer/ours {t_peer / t_ours:5.2f} x   |d effect| {abs(result.effect - fit[0]):.1e}  "
          f"|d se| {abs(result.se - fit[1]):.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
