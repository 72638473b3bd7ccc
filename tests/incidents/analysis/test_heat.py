"""Heat maps over HTTP and in the service: tiles, legend, contours, GeoTIFF, full mass, scope."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import shapely
import tifffile
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine

from pingan.analytics.tiles import lonlat_to_tile
from pingan.incidents.analysis.heat import heat_map, population_raster
from pingan.incidents.analysis.params import HeatParams
from pingan.incidents.analysis.selection import resolve
from pingan.kit.db import session_scope
from tests.incidents.analysis.conftest import SPOT, SYSTEM, Planted
from tests.incidents.analysis.pngcheck import decode_rgba

HEAT = "/api/v1/analysis/heat"


def test_tile_is_a_256_png_that_shows_the_spot(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    tx, ty = lonlat_to_tile(SPOT[0], SPOT[1], 15)
    response = api.get(f"{HEAT}/tiles/15/{int(tx)}/{int(ty)}.png", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    pixels = decode_rgba(response.content)
    assert pixels.shape == (256, 256, 4)
    assert (pixels[..., 3] > 0).any()
    # Far from the city the tile is fully transparent.
    far = api.get(f"{HEAT}/tiles/15/0/0.png", headers=headers)
    assert (decode_rgba(far.content)[..., 3] == 0).all()
    bad = api.get(f"{HEAT}/tiles/3/9/0.png", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "z"


def test_legend_is_monotone_and_shared_by_tiles(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    legend = api.get(f"{HEAT}/legend", params={"bandwidth_m": 150}, headers=headers).json()
    values = [stop["value"] for stop in legend["stops"]]
    assert legend["vmin"] == 0 < legend["vmax"] and values[0] == 0 and values[-1] == legend["vmax"]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert all(s["colour"].startswith("#") and len(s["colour"]) == 7 for s in legend["stops"])
    assert legend["units"] == "incidents per km²"


def test_contours_are_valid_geojson_in_lonlat(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    response = api.get(f"{HEAT}/contours", params={"bandwidth_m": 150}, headers=headers)
    assert response.headers["content-type"] == "application/geo+json"
    doc = response.json()
    assert doc["type"] == "FeatureCollection" and doc["features"]
    lowers = [f["properties"]["lower"] for f in doc["features"]]
    assert lowers == sorted(lowers)
    for feature in doc["features"]:
        geom = shape(feature["geometry"])
        assert geom.geom_type == "MultiPolygon" and geom.is_valid and geom.area > 0
        west, south, east, north = geom.bounds
        assert 119.99 < west < east < 120.05 and 29.99 < south < north < 30.03
    # The top band surrounds the dense spot.
    top = shape(doc["features"][-1]["geometry"])
    assert top.distance(shapely.Point(SPOT)) < 0.002
    levels = api.get(f"{HEAT}/contours", params={"levels": [1, 10]}, headers=headers).json()
    assert [f["properties"]["lower"] for f in levels["features"]] == [1, 10]


def test_geotiff_is_readable_and_holds_the_full_mass(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    query = {"bandwidth_m": 200, "cell_size_m": 20}
    response = api.get(f"{HEAT}.tif", params=query, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "image/tiff"
    summary = api.get(HEAT, params=query, headers=headers).json()
    with tifffile.TiffFile(io.BytesIO(response.content)) as tif:
        page = tif.pages[0]
        assert isinstance(page, tifffile.TiffPage)
        raster = page.asarray()
        geokeys = [int(k) for k in page.tags["GeoKeyDirectoryTag"].value]
    assert raster.shape == (summary["raster"]["rows"], summary["raster"]["columns"])
    assert summary["raster"]["epsg"] == 32651 and 32651 in geokeys
    cell_km2 = (summary["raster"]["cell_size_m"] / 1000) ** 2
    shown = float(np.nansum(raster.astype(np.float64))) * cell_km2
    assert shown == pytest.approx(summary["weight_in_area"], rel=1e-4)
    # Outside the city is nodata; the kernel's tail past the city edge is all that is not shown.
    assert np.isnan(raster[0, 0]) and 0.9 * planted.total < shown < planted.total
    assert summary["weight_on_raster"] == pytest.approx(planted.total, rel=1e-6)


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_surface_integral_equals_incident_count(
    engine: Engine, planted: Planted, kernel: str
) -> None:
    with session_scope(engine) as session:
        params = HeatParams.model_validate(
            {"kernel": kernel, "bandwidth_m": 300, "cell_size_m": 25}
        )
        surface = heat_map(session, params, actor=SYSTEM)
        assert surface.n_events == planted.total
        assert surface.surface.weight_on_raster == pytest.approx(planted.total, rel=1e-6)
        weighted = heat_map(session, HeatParams(weight="severity", cell_size_m=25), actor=SYSTEM)
        severity_sum = sum(1 + i % 5 for i in range(len(planted.lon)))
        assert weighted.surface.weight_on_raster == pytest.approx(severity_sum, rel=1e-6)
        rule = heat_map(session, HeatParams(bandwidth_rule="silverman"), actor=SYSTEM)
        assert 0 < rule.surface.bandwidth_m < 2_000


def test_per_capita_uses_the_grid_population(engine: Engine, planted: Planted) -> None:
    with session_scope(engine) as session:
        params = HeatParams(per_capita=True, cell_size_m=50)
        surface = heat_map(session, params, actor=SYSTEM)
        assert surface.units == "incidents per 10,000 residents"
        assert np.isfinite(surface.values).any() and surface.vmax > 0
        selection = resolve(session, params, actor=SYSTEM, since=None, until=None)
        population = population_raster(session, selection, surface.grid, actor=SYSTEM)
        assert population.sum() == pytest.approx(4 * 2000)


def test_district_analyst_sees_only_their_district(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["east_analyst"]
    summary = api.get(HEAT, params={"bandwidth_m": 150}, headers=headers).json()
    assert summary["n_events"] == planted.east
    assert summary["weight_on_raster"] == pytest.approx(planted.east, rel=1e-6)
    # The west district's dense spot does not show on the east analyst's tiles.
    tx, ty = lonlat_to_tile(SPOT[0], SPOT[1], 17)
    tile = api.get(f"{HEAT}/tiles/17/{int(tx)}/{int(ty)}.png", headers=headers)
    chief = api.get(f"{HEAT}/tiles/17/{int(tx)}/{int(ty)}.png", headers=keys["chief"])
    assert (decode_rgba(tile.content)[..., 3] == 0).all()
    assert (decode_rgba(chief.content)[..., 3] > 0).any()


def test_display_may_reuse_a_recent_surface_while_analyses_see_new_intake(
    engine: Engine, planted: Planted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingan.incidents.analysis import heat
    from tests.incidents.analysis.conftest import WINDOW, _row, intake

    params = HeatParams(cell_size_m=50)
    with session_scope(engine) as session:
        first = heat_map(session, params, actor=SYSTEM, max_age_s=60)
    # One more incident inside the window: the stored data changed.
    when = WINDOW[0] + (WINDOW[1] - WINDOW[0]) / 2
    intake(engine, [_row(0, SPOT[0], SPOT[1], when, "theft.pickpocket", "late")])
    with session_scope(engine) as session:
        # A map display within a minute gets the same surface back...
        assert heat_map(session, params, actor=SYSTEM, max_age_s=60) is first
        # ...an analysis gets the data as they stand: one incident more.
        exact = heat_map(session, params, actor=SYSTEM)
        assert exact is not first
        assert exact.n_events == first.n_events + 1
    # Past the display's age a new surface is made for it too.
    clock = heat._clock() + 3600
    monkeypatch.setattr(heat, "_clock", lambda: clock)
    intake(engine, [_row(1, SPOT[0], SPOT[1], when, "theft.pickpocket", "later")])
    with session_scope(engine) as session:
        later = heat_map(session, params, actor=SYSTEM, max_age_s=60)
    assert later.n_events == first.n_events + 2
