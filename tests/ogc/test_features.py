"""OGC API - Features read by a real OGC client (OWSLib) over HTTP, with org scope applied."""

from __future__ import annotations

import httpx
import pytest
from owslib.ogcapi.features import Features

from tests.citykit import LAT0, LAT1
from tests.ogc.conftest import PLAN, Server

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def client_for(server: Server, username: str) -> Features:
    # OWSLib keeps one module-level header dict shared by every client: use each client
    # before making the next.
    return Features(f"{server.url}/ogc", headers={"X-API-Key": server.keys[username]})


def all_ids(api: Features, collection: str, page: int, **kwargs: object) -> list[int]:
    """Page through a collection by offset, as a GIS client does."""
    seen: list[int] = []
    offset = 0
    while True:
        got = api.collection_items(collection, limit=page, offset=offset, **kwargs)
        assert got["numberReturned"] == len(got["features"]) <= page
        seen += [f["id"] for f in got["features"]]
        rels = {link["rel"] for link in got["links"]}
        if "next" not in rels:
            assert len(seen) == got["numberMatched"]
            return seen
        offset += page


def test_owslib_reads_landing_conformance_collections_and_pages(server: Server) -> None:
    api = client_for(server, "chief")
    assert {CORE, GEOJSON} <= set(api.conformance()["conformsTo"])
    assert {link["rel"] for link in api.links} >= {"service-desc", "conformance", "data"}
    ids = set(api.feature_collections())
    assert ids == {
        "org-units",
        "incidents",
        "incident-counts",
        "hotspots",
        "alerts",
        "cameras",
        "coverage",
    }
    meta = api.collection("incidents")
    west, south, east, north = meta["extent"]["spatial"]["bbox"][0]
    assert (west, south, east, north) == pytest.approx((120.00, LAT0, 120.04, LAT1))

    everything = sorted(i for ids in server.incidents.values() for i in ids)
    # Pages of 3 over 10 incidents: every incident exactly once, in id order.
    paged = all_ids(api, "incidents", 3)
    assert paged == everything
    first = api.collection_items("incidents", limit=3)
    assert first["numberMatched"] == sum(PLAN.values())
    one = api.collection_item("incidents", str(everything[0]))
    assert one["geometry"]["type"] == "Point"
    assert one["properties"]["type"] == "theft.bicycle"


def test_bbox_and_datetime_filters(server: Server) -> None:
    api = client_for(server, "chief")
    # Grid W1 spans lon 120.00-120.01.
    in_w1 = api.collection_items("incidents", bbox=[120.0, LAT0, 120.0099, LAT1], limit=100)
    assert sorted(f["id"] for f in in_w1["features"]) == server.incidents["W1"]
    # Days 3..5 of March: W1's third incident and both of W2's.
    window = api.collection_items("incidents", datetime_="2026-03-03/2026-03-05", limit=100)
    expected = sorted(i for i, day in server.days.items() if 3 <= day.day <= 5)
    assert sorted(f["id"] for f in window["features"]) == expected
    open_end = api.collection_items("incidents", datetime_="2026-03-09T00:00:00Z/..", limit=100)
    assert sorted(f["id"] for f in open_end["features"]) == sorted(
        i for i, day in server.days.items() if day.day >= 9
    )
    grids = api.collection_items("org-units", level="grid", bbox=[120.021, LAT0, 120.039, LAT1])
    assert sorted(f["properties"]["code"] for f in grids["features"]) == ["E1", "E2"]


def test_counts_per_grid_match_what_was_stored(server: Server) -> None:
    api = client_for(server, "chief")
    counts = api.collection_items("incident-counts")
    got = {f["properties"]["code"]: f["properties"]["count"] for f in counts["features"]}
    assert got == PLAN
    rates = {f["properties"]["code"]: f["properties"]["per_10k"] for f in counts["features"]}
    assert rates["E2"] == pytest.approx(4 * 10_000 / 2000)
    # A window that holds only the first four days: W1's three and W2's first.
    early = api.collection_items("incident-counts", datetime_="2026-03-01/2026-03-04")
    got = {f["properties"]["code"]: f["properties"]["count"] for f in early["features"]}
    assert got == {"W1": 3, "W2": 1, "E1": 0, "E2": 0}


def test_scope_limits_every_collection(server: Server) -> None:
    api = client_for(server, "west_officer")
    west = sorted(server.incidents["W1"] + server.incidents["W2"])
    assert all_ids(api, "incidents", 2) == west
    counts = api.collection_items("incident-counts")
    assert {f["properties"]["code"] for f in counts["features"]} == {"W1", "W2"}
    units = api.collection_items("org-units", level="grid")
    assert {f["properties"]["code"] for f in units["features"]} == {"W1", "W2"}
    alerts = api.collection_items("alerts")
    assert [f["id"] for f in alerts["features"]] == [server.alerts["DW"]]
    # Another district's incident reads as missing.
    with pytest.raises(RuntimeError, match="not found"):
        api.collection_item("incidents", str(server.incidents["E1"][0]))
    # Hotspots: the officer's own stored run, never the east analyst's.
    hot = api.collection_items("hotspots")
    assert [f["id"] for f in hot["features"]] == ["cell-W1"]
    assert hot["features"][0]["properties"]["run_id"] == server.hotspot_runs["west_officer"]
    with pytest.raises(RuntimeError, match="not found"):
        api.collection_items("hotspots", run=server.hotspot_runs["east_analyst"])
    # A district administrator sees neither analyst's run; the city admin may open any run.
    west_admin = client_for(server, "west_admin")
    assert west_admin.collection_items("hotspots")["features"] == []
    with pytest.raises(RuntimeError, match="not found"):
        west_admin.collection_items("hotspots", run=server.hotspot_runs["east_analyst"])
    chief = client_for(server, "chief")
    east_run = chief.collection_items("hotspots", run=server.hotspot_runs["east_analyst"])
    assert [f["id"] for f in east_run["features"]] == ["cell-E2"]


def test_anonymous_and_unscoped_callers(server: Server) -> None:
    assert httpx.get(f"{server.url}/ogc").status_code == 401
    assert httpx.get(f"{server.url}/ogc/collections/incidents/items").status_code == 401
    nobody = {"X-API-Key": server.keys["nobody"]}
    listed = httpx.get(f"{server.url}/ogc/collections", headers=nobody).json()
    assert listed["collections"] == []
    assert httpx.get(f"{server.url}/ogc/collections/incidents", headers=nobody).status_code == 404
    # The bearer form of the key works too.
    bearer = {"Authorization": f"Bearer {server.keys['chief']}"}
    assert httpx.get(f"{server.url}/ogc/conformance", headers=bearer).status_code == 200


BAD_QUERIES = [
    "bbox=1,2,3",
    "bbox=a,b,c,d",
    "bbox=10,50,20,40",
    "limit=0",
    "limit=many",
    "offset=-1",
    "datetime=yesterday",
    "datetime=2026-03-05/2026-03-01",
    "colour=red",
    "f=html",
]


def test_bad_parameters_get_400_problems(server: Server) -> None:
    headers = {"X-API-Key": server.keys["chief"]}
    for query in BAD_QUERIES:
        url = f"{server.url}/ogc/collections/incidents/items?{query}"
        response = httpx.get(url, headers=headers)
        assert response.status_code == 400, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"]
