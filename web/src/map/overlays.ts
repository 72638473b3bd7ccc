import type maplibregl from "maplibre-gl";

// Layers the screens draw over the base map: alert areas, the dispatch
// board's incidents, routes and responders, a case's position. Each is a
// GeoJSON source set from script; a feature with `selected: true` stands out.
export const OVERLAYS = [
  "alert-areas",
  "dispatch-incidents",
  "routes",
  "responders",
  "focus",
  "camera-focus",
] as const;
export type OverlayKey = (typeof OVERLAYS)[number];

/** Clickable overlay layers, topmost first. */
export const OVERLAY_LAYERS = [
  "responders",
  "dispatch-incidents",
  "focus",
  "routes",
  "alert-areas-fill",
] as const;

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };
const SELECTED: maplibregl.ExpressionSpecification = ["==", ["get", "selected"], true];

export function addOverlayLayers(m: maplibregl.Map): void {
  for (const key of OVERLAYS) m.addSource(key, { type: "geojson", data: EMPTY });
  // Alert areas lie under the roads and incidents, so what happened in them stays visible.
  const under = m.getLayer("roads") ? "roads" : undefined;
  m.addLayer(
    {
      id: "alert-areas-fill",
      type: "fill",
      source: "alert-areas",
      paint: {
        "fill-color": ["case", SELECTED, "#d7301f", "#fc8d59"],
        "fill-opacity": ["case", SELECTED, 0.4, 0.22],
      },
    },
    under,
  );
  m.addLayer(
    {
      id: "alert-areas-line",
      type: "line",
      source: "alert-areas",
      paint: { "line-color": "#b30000", "line-width": ["case", SELECTED, 3, 1.5] },
    },
    under,
  );
  m.addLayer({
    id: "routes",
    type: "line",
    source: "routes",
    layout: { "line-cap": "round", "line-join": "round" },
    paint: {
      "line-color": ["case", SELECTED, "#1f5fbf", "#6b8fc9"],
      "line-width": ["case", SELECTED, 5, 3],
      "line-opacity": ["case", SELECTED, 0.95, 0.6],
    },
  });
  m.addLayer({
    id: "responders",
    type: "circle",
    source: "responders",
    paint: {
      "circle-radius": ["case", SELECTED, 8, 5.5],
      "circle-color": [
        "match",
        ["get", "availability"],
        "available",
        "#1b7a3a",
        "busy",
        "#e08214",
        "#8c8c8c",
      ],
      "circle-stroke-color": ["case", SELECTED, "#1f5fbf", "#ffffff"],
      "circle-stroke-width": ["case", SELECTED, 3, 1.2],
    },
  });
  m.addLayer({
    id: "dispatch-incidents",
    type: "circle",
    source: "dispatch-incidents",
    paint: {
      "circle-radius": ["case", SELECTED, 10, 7],
      "circle-color": ["step", ["get", "severity"], "#fecc5c", 3, "#fd8d3c", 4, "#e31a1c"],
      "circle-stroke-color": ["case", SELECTED, "#16233d", "#ffffff"],
      "circle-stroke-width": ["case", SELECTED, 3, 1.5],
    },
  });
  // What the Cameras screen points at: an area's outline, a blind spot, a camera or site.
  m.addLayer({
    id: "camera-focus-sector",
    type: "fill",
    source: "camera-focus",
    filter: ["==", ["get", "kind"], "sector"],
    paint: { "fill-color": "#f5a623", "fill-opacity": 0.3, "fill-outline-color": "#c77c00" },
  });
  m.addLayer({
    id: "camera-focus-area",
    type: "line",
    source: "camera-focus",
    filter: [
      "all",
      ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      ["!=", ["get", "kind"], "sector"],
    ],
    paint: { "line-color": "#16233d", "line-width": 3, "line-dasharray": [2, 1] },
  });
  m.addLayer({
    id: "camera-focus-line",
    type: "line",
    source: "camera-focus",
    filter: ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
    layout: { "line-cap": "round" },
    paint: { "line-color": "#f5a623", "line-width": 12, "line-opacity": 0.6 },
  });
  m.addLayer({
    id: "camera-focus-point",
    type: "circle",
    source: "camera-focus",
    filter: ["==", ["geometry-type"], "Point"],
    paint: {
      "circle-radius": 14,
      "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": "#f5a623",
      "circle-stroke-width": 4,
    },
  });
  m.addLayer({
    id: "focus",
    type: "circle",
    source: "focus",
    paint: {
      "circle-radius": 9,
      "circle-color": "#7b3294",
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 2.5,
    },
  });
}
