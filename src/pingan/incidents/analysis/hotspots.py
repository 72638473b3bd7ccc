"""Hotspot maps: Getis-Ord Gi* / Gi or local Moran's I on counts per cell or grid.

Counts are taken over the study area only (see ``selection``), so cells in
another district neither show nor dilute the statistics. Classes use two-sided
p-values, so "hot 99%" means what it says.

For Gi and Gi* the classes come from the analytical z by default. Conditional
permutation (``p_sim``, always reported when permutations > 0) holds each
location's own count fixed and shuffles the rest into its neighbours, so for
Gi* it tests only the neighbours: a one-cell spike of 40 incidents among quiet
cells is hot by z and not by p_sim. Local Moran uses p_sim by default, as usual.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from sqlalchemy.orm import Session

from pingan.analytics.hotspots import local_g
from pingan.analytics.moran import QUADRANT_NAMES, local_moran, moran
from pingan.analytics.significance import benjamini_hochberg
from pingan.incidents.analysis.geojson import clean, column, feature_collection, location_features
from pingan.incidents.analysis.params import MAX_SYNC_PERMUTATIONS, HotspotParams
from pingan.incidents.analysis.progress import Progress, silent
from pingan.incidents.analysis.selection import utc_window
from pingan.incidents.analysis.study import Study, load, prepare_study
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal

FloatArray = npt.NDArray[np.float64]
CLASS_LABELS = {
    3: "hot 99%",
    2: "hot 95%",
    1: "hot 90%",
    0: "not significant",
    -1: "cold 90%",
    -2: "cold 95%",
    -3: "cold 99%",
}
LISA_LABELS = {
    1: "high-high cluster",
    2: "low-high outlier",
    3: "low-low cluster",
    4: "high-low outlier",
    0: "not significant",
}


def prepare(
    session: Session, params: HotspotParams, *, actor: Principal, sync: bool = False
) -> Study:
    """Check everything that needs no incidents; ``sync`` caps the permutations."""
    if sync and params.permutations > MAX_SYNC_PERMUTATIONS:
        raise ValidationFailed(
            f"more than {MAX_SYNC_PERMUTATIONS} permutations runs as a job: "
            "POST /api/v1/analysis/runs with kind analysis.hotspots",
            field="permutations",
        )
    if params.inference == "permutation" and params.permutations == 0:
        raise ValidationFailed("permutation inference needs permutations > 0", field="inference")
    since, until = utc_window(params)
    return prepare_study(
        session,
        params,
        unit=params.unit,
        cell_size_m=params.cell_size_m,
        h3_resolution=params.h3_resolution,
        actor=actor,
        since=since,
        until=until,
    )


def hotspots(
    session: Session,
    params: HotspotParams,
    *,
    actor: Principal,
    progress: Progress = silent,
    sync: bool = False,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of locations with counts, statistics and classes."""
    study = prepare(session, params, actor=actor, sync=sync)
    progress(0.1, "loading incidents")
    cube, locations = load(session, study, cell_size_m=params.cell_size_m, actor=actor)
    counts = locations.counts(cube)
    weights = locations.weights(params)
    progress(0.3, f"{params.statistic} on {len(locations):,} locations")
    if counts.sum() == 0:
        props = _empty(counts)
    elif params.statistic == "local_moran":
        props = _local_moran(counts, weights, params)
    else:
        props = _getis_ord(counts, weights, params)
    progress(0.8, "global Moran's I")
    summary = {
        "statistic": params.statistic,
        "unit": params.unit,
        "cell_size_m": params.cell_size_m if params.unit == "cell" else None,
        "h3_resolution": params.h3_resolution if params.unit == "h3" else None,
        "weights": params.weights,
        "inference": _inference(params),
        "n_locations": len(locations),
        "n_events": len(cube),
        "n_events_outside": int(len(cube) - counts.sum()),
        "classes": dict(Counter(props["label"])),
        "moran": _global_moran(counts, weights, params),
        "selection": study.selection.described,
    }
    keep = None
    if params.significant_only:
        keep = [label != "not significant" for label in props["label"]]
    features = location_features(locations, study.selection.projector, props, keep=keep)
    progress(1.0, "done")
    return feature_collection(features, summary=summary)


def _inference(params: HotspotParams) -> str:
    if params.inference is not None:
        return params.inference
    if params.statistic == "local_moran" and params.permutations > 0:
        return "permutation"
    return "normal"


def _empty(counts: FloatArray) -> dict[str, list[Any]]:
    n = counts.size
    return {
        "count": [0] * n,
        "z": [None] * n,
        "p": [None] * n,
        "p_sim": [None] * n,
        "class": [0] * n,
        "label": ["not significant"] * n,
    }


def _getis_ord(counts: FloatArray, weights: Any, params: HotspotParams) -> dict[str, list[Any]]:
    try:
        result = local_g(
            counts,
            weights,
            star=params.statistic == "gi_star",
            transform=params.transform or "binary",
            permutations=params.permutations,
            seed=params.seed,
            alternative="two-sided",
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="statistic") from None
    if params.inference == "permutation":
        classes = result.classes(use="permutation", fdr=params.fdr)
    else:
        classes = result.classes(use="normal", fdr=params.fdr)
    return {
        "count": counts.astype(np.int64).tolist(),
        "g": column(result.statistic),
        "z": column(result.z),
        "p": column(result.p_two_sided),
        "p_sim": column(result.p_sim) if result.p_sim is not None else [None] * counts.size,
        "class": classes.tolist(),
        "label": [CLASS_LABELS[int(c)] for c in classes],
    }


def _local_moran(counts: FloatArray, weights: Any, params: HotspotParams) -> dict[str, list[Any]]:
    try:
        result = local_moran(
            counts,
            weights,
            transform=params.transform or "row",
            permutations=params.permutations,
            seed=params.seed,
            alternative="two-sided",
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="statistic") from None
    normal_p = 2.0 * stats.norm.sf(np.abs(result.z))
    p = normal_p
    if params.inference != "normal" and result.p_sim is not None:
        p = result.p_sim
    if params.fdr:
        significant = benjamini_hochberg(p, params.alpha)
    else:
        significant = np.nan_to_num(p, nan=1.0) < params.alpha
    cluster = np.where(significant, result.quadrant, 0).astype(np.int64)
    return {
        "count": counts.astype(np.int64).tolist(),
        "lisa_i": column(result.statistic),
        "z": column(result.z),
        "p": column(normal_p),
        "p_sim": column(result.p_sim) if result.p_sim is not None else [None] * counts.size,
        "quadrant": [QUADRANT_NAMES[int(q)] for q in result.quadrant],
        "class": cluster.tolist(),
        "label": [LISA_LABELS[int(c)] for c in cluster],
    }


def _global_moran(counts: FloatArray, weights: Any, params: HotspotParams) -> dict[str, Any] | None:
    """Global Moran's I of the counts (row-standardised); None when it is undefined."""
    try:
        result = moran(
            counts,
            weights,
            transform="row",
            permutations=min(params.permutations, MAX_SYNC_PERMUTATIONS),
            seed=params.seed,
        )
    except ValueError:
        return None  # all counts equal, or no neighbours at all
    return {
        "i": clean(result.statistic),
        "expected": clean(result.expected),
        "z": clean(result.z_random),
        "p": clean(result.p_random),
        "p_sim": clean(result.p_sim),
    }
