import type maplibregl from "maplibre-gl";
import type { GeoJSONSource, MapGeoJSONFeature } from "maplibre-gl";
import { getJson, type FeatureCollection } from "../api";
import { t } from "../i18n";
import type { Detail } from "../panel";

// Camera layers: cameras and street coverage come as tiles (800,000 cameras
// never fit in GeoJSON), ranked blind spots and planned sites as GeoJSON.
// Vector tiles (clusters at low zoom, clickable cameras) when the server has
// them, else the PNG tiles: this one line switches.
export const CAMERA_TILES: "mvt" | "png" = "mvt";

export const CAMERA_LAYER_KEYS = ["cameras", "coverage", "blind-spots", "planned-sites"] as const;
export type CameraLayerKey = (typeof CAMERA_LAYER_KEYS)[number];

/** Camera layers that answer clicks, topmost first. */
export const CAMERA_CLICK_LAYERS = [
  "planned-sites",
  "camera-points",
  "camera-clusters",
  "blind-spots",
] as const;

export const NETWORK_COLOURS: Record<string, string> = {
  public_hd: "#1e5ac8",
  city_management: "#009696",
  social: "#e68c00",
  community: "#7850aa",
  school: "#d23c82",
  hospital: "#c81e1e",
  transport: "#5a5a5a",
  other: "#3c3c3c",
};
export const COVERED_COLOUR = "#009646";
export const BLIND_COLOUR = "#d72828";
export const PLAN_COLOUR = "#ff7f00";
// Ranked blind spots stand out from the blind street of the coverage layer.
export const RANKED_BLIND_COLOUR = "#8e0152";
const BLIND_LIMIT = 2000;
const EMPTY: FeatureCollection = { type: "FeatureCollection", features: [] };

function tileUrl(path: string): string {
  return `${location.origin}${path}`;
}

function networkColour(): maplibregl.ExpressionSpecification {
  const match: unknown[] = ["match", ["get", "network"]];
  for (const [net, hex] of Object.entries(NETWORK_COLOURS)) match.push(net, hex);
  match.push(NETWORK_COLOURS.other);
  return match as maplibregl.ExpressionSpecification;
}

/** Add the sources and (hidden) layers; `before` keeps them under the incident points. */
export function addCameraLayers(m: maplibregl.Map, before?: string): void {
  const hidden = { visibility: "none" as const };
  const ext = CAMERA_TILES;
  if (ext === "mvt") {
    m.addSource("coverage", {
      type: "vector",
      tiles: [tileUrl("/api/v1/cameras/tiles/coverage/{z}/{x}/{y}.mvt")],
    });
    m.addLayer(
      {
        id: "coverage",
        type: "line",
        source: "coverage",
        "source-layer": "segments",
        layout: hidden,
        paint: {
          "line-color": ["case", ["==", ["get", "covered"], 1], COVERED_COLOUR, BLIND_COLOUR],
          "line-width": ["interpolate", ["linear"], ["zoom"], 11, 1, 16, 3.5],
        },
      },
      before,
    );
    m.addSource("cameras", {
      type: "vector",
      tiles: [tileUrl("/api/v1/cameras/tiles/cameras/{z}/{x}/{y}.mvt")],
    });
    m.addLayer(
      {
        id: "camera-clusters",
        type: "circle",
        source: "cameras",
        "source-layer": "cameras",
        layout: hidden,
        filter: ["has", "count"],
        paint: {
          "circle-color": ["step", ["get", "count"], "#6baed6", 50, "#3182bd", 500, "#08519c"],
          "circle-radius": ["step", ["get", "count"], 6, 50, 10, 500, 15, 5000, 20],
          "circle-opacity": 0.85,
          // A red ring: some camera in the cluster is offline now.
          "circle-stroke-color": ["case", [">", ["coalesce", ["get", "offline"], 0], 0], BLIND_COLOUR, "#ffffff"],
          "circle-stroke-width": ["case", [">", ["coalesce", ["get", "offline"], 0], 0], 2.5, 1.2],
        },
      },
      before,
    );
    m.addLayer(
      {
        id: "camera-points",
        type: "circle",
        source: "cameras",
        "source-layer": "cameras",
        layout: hidden,
        filter: ["!", ["has", "count"]],
        paint: {
          "circle-color": networkColour(),
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 3, 18, 6],
          "circle-stroke-color": ["case", ["==", ["get", "live"], "offline"], BLIND_COLOUR, "#ffffff"],
          "circle-stroke-width": ["case", ["==", ["get", "live"], "offline"], 2.5, 1],
        },
      },
      before,
    );
  } else {
    m.addSource("coverage", {
      type: "raster",
      tiles: [tileUrl("/api/v1/cameras/tiles/coverage/{z}/{x}/{y}.png")],
      tileSize: 256,
    });
    m.addLayer({ id: "coverage", type: "raster", source: "coverage", layout: hidden }, before);
    m.addSource("cameras", {
      type: "raster",
      tiles: [tileUrl("/api/v1/cameras/tiles/cameras/{z}/{x}/{y}.png")],
      tileSize: 256,
    });
    m.addLayer({ id: "camera-tiles", type: "raster", source: "cameras", layout: hidden }, before);
  }
  m.addSource("blind-spots", { type: "geojson", data: EMPTY });
  m.addLayer(
    {
      id: "blind-spots",
      type: "line",
      source: "blind-spots",
      layout: { ...hidden, "line-cap": "round" },
      paint: {
        "line-color": RANKED_BLIND_COLOUR,
        "line-width": ["interpolate", ["linear"], ["get", "incidents_near"], 0, 3, 10, 7],
        "line-opacity": 0.85,
      },
    },
    before,
  );
  m.addSource("planned-sites", { type: "geojson", data: EMPTY });
  m.addLayer({
    id: "planned-sites",
    type: "circle",
    source: "planned-sites",
    layout: hidden,
    paint: {
      "circle-radius": ["case", ["==", ["get", "selected"], true], 10, 7],
      "circle-color": PLAN_COLOUR,
      "circle-stroke-color": ["case", ["==", ["get", "selected"], true], "#16233d", "#ffffff"],
      "circle-stroke-width": ["case", ["==", ["get", "selected"], true], 3, 1.5],
    },
  });
}

export function cameraLayerIds(key: CameraLayerKey): string[] {
  if (key === "cameras") return CAMERA_TILES === "mvt" ? ["camera-clusters", "camera-points"] : ["camera-tiles"];
  return [key];
}

/**
 * What the camera layers load: tiles fetch themselves; blind spots follow the
 * view; planned sites are those of the plan the Cameras screen picked (else the
 * newest plan).
 */
export class CameraLayerData {
  planId: number | null = null;
  private selectedOrder: number | null = null;
  private sites: FeatureCollection = EMPTY;

  constructor(private readonly map: maplibregl.Map) {}

  async fetch(key: CameraLayerKey, bbox: string): Promise<() => void> {
    if (key === "blind-spots") {
      const doc = await getJson<FeatureCollection>("/api/v1/cameras/blind-spots", {
        bbox,
        limit: BLIND_LIMIT,
      });
      return () => (this.map.getSource("blind-spots") as GeoJSONSource).setData(doc);
    }
    if (key === "planned-sites") {
      if (this.planId === null) {
        const plans = await getJson<Array<{ id: number }>>("/api/v1/cameras/plans");
        this.planId = plans[0]?.id ?? null;
      }
      this.sites =
        this.planId === null
          ? EMPTY
          : await getJson<FeatureCollection>(`/api/v1/cameras/plans/${this.planId}/sites.geojson`);
      return () => this.drawSites();
    }
    // Tile layers load as the map asks for them.
    return () => undefined;
  }

  /** Mark one planned site (by its order) as selected. */
  selectSite(order: number | null): void {
    this.selectedOrder = order;
    if (this.map.getSource("planned-sites")) this.drawSites();
  }

  private drawSites(): void {
    const features = this.sites.features.map((f) => ({
      ...f,
      properties: { ...f.properties, selected: f.properties?.order === this.selectedOrder },
    }));
    (this.map.getSource("planned-sites") as GeoJSONSource).setData({
      type: "FeatureCollection",
      features,
    });
  }
}

/** The detail panel's view of a click on a camera layer, or null for other layers. */
export function describeCameraHit(hit: MapGeoJSONFeature): Detail | null {
  const p = { ...hit.properties } as Record<string, unknown>;
  switch (hit.layer.id) {
    case "camera-points":
      return { kind: "camera", title: `#${String(p.id)}`, properties: p };
    case "camera-clusters":
      return { kind: "camCluster", title: String(p.count), properties: { count: p.count } };
    case "blind-spots":
      return { kind: "blindSpot", title: () => `${t("camColRank")} ${String(p.rank)}`, properties: p };
    case "planned-sites": {
      const { selected: _selected, ...rest } = p;
      return { kind: "plannedSite", title: `${String(p.order)}`, properties: rest };
    }
    default:
      return null;
  }
}
