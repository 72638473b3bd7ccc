import maplibregl, {
  type GeoJSONSource,
  type MapGeoJSONFeature,
  type RasterTileSource,
} from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import { getJson, withQuery, type Feature, type FeatureCollection, type Query } from "../api";
import { emergingName, lang, t } from "../i18n";
import type { Detail } from "../panel";
import type { TimeWindow } from "../timewindow";
import { boundsOf } from "./bounds";
import {
  CAMERA_CLICK_LAYERS,
  CAMERA_TILES,
  CAMERA_LAYER_KEYS,
  CameraLayerData,
  addCameraLayers,
  cameraLayerIds,
  describeCameraHit,
  type CameraLayerKey,
} from "./cameralayers";
import { ClusterLabels } from "./clusterlabels";
import { OVERLAY_LAYERS, addOverlayLayers, type OverlayKey } from "./overlays";
import {
  BASE_STYLE,
  EMERGING_CATEGORIES,
  HOTSPOT_COLOURS,
  HOTSPOT_LABELS,
  ORG_LEVELS,
  ORG_STYLE,
  ROAD_COLOURS,
  minRoadClass,
  type OrgLevel,
} from "./style";

export type LayerKey =
  | `org-${OrgLevel}`
  | "roads"
  | "sites"
  | "incidents"
  | "heat"
  | "hotspots"
  | "emerging"
  | CameraLayerKey;

function isCameraLayer(key: LayerKey): key is CameraLayerKey {
  return (CAMERA_LAYER_KEYS as readonly string[]).includes(key);
}

const EMPTY: FeatureCollection = { type: "FeatureCollection", features: [] };
const ALERT_AREA = "alert-areas-fill";
const INCIDENT_PAGE = 1000;
export const INCIDENT_CAP = 5000;
const HOTSPOT_CELL_M = 500;

export interface MapEvents {
  onDetail(detail: Detail): void;
  onStatus(key: LayerKey, state: "loading" | "loaded" | "error", note?: string): void;
  onIncidentCount(count: number, capped: boolean): void;
  onEmergingCategories(categories: Record<string, number>): void;
  /** A click on a screen's overlay (alert area, incident, responder, route). */
  onOverlay?(layer: string, properties: Record<string, unknown>): void;
}

/** The full-screen map: the city's own layers, toggled from the layer panel. */
export class CityMap {
  readonly map: maplibregl.Map;
  private readonly enabled = new Set<LayerKey>();
  private readonly loadedOnce = new Set<LayerKey>();
  private window: TimeWindow;
  private ready: Promise<void>;
  private fitted = false;
  private readonly generations = new Map<LayerKey, number>();
  private typeNames: Promise<Map<string, IncidentType>> | null = null;
  private moveTimer: number | undefined;
  /** The camera layers' data (the Cameras screen picks the plan drawn). */
  readonly cameraData: CameraLayerData;

  constructor(container: HTMLElement, window: TimeWindow, private readonly events: MapEvents) {
    this.window = window;
    this.map = new maplibregl.Map({
      container,
      style: BASE_STYLE,
      center: [121.47, 31.23],
      zoom: 10,
      attributionControl: false,
      fadeDuration: 0,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "bottom-right");
    this.map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    this.cameraData = new CameraLayerData(this.map);
    this.ready = new Promise((resolve) => this.map.once("load", () => resolve()));
    void this.ready.then(() => {
      this.addSourcesAndLayers();
      addOverlayLayers(this.map);
      new ClusterLabels(this.map, "incidents", "incident-clusters");
      if (CAMERA_TILES === "mvt") {
        new ClusterLabels(this.map, "cameras", "camera-clusters", { sourceLayer: "cameras", countProperty: "count" });
      }
      this.map.on("click", (e) => this.click(e.point));
      this.map.on("moveend", () => this.viewChanged());
    });
  }

  async setEnabled(key: LayerKey, on: boolean): Promise<void> {
    await this.ready;
    if (on) this.enabled.add(key);
    else this.enabled.delete(key);
    for (const id of this.layerIds(key)) {
      this.map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
    }
    if (on) await this.load(key);
  }

  async setWindow(window: TimeWindow): Promise<void> {
    this.window = window;
    await this.ready;
    for (const key of ["heat", "hotspots", "incidents"] as const) {
      this.loadedOnce.delete(key);
      if (this.enabled.has(key)) await this.load(key);
    }
  }

  /** Load a layer again if it is on (the Cameras screen picked another plan). */
  async refresh(key: LayerKey): Promise<void> {
    await this.ready;
    this.loadedOnce.delete(key);
    if (this.enabled.has(key)) await this.load(key);
  }

  /** Draw a screen's overlay (replacing what it showed before). */
  async setOverlay(key: OverlayKey, doc: FeatureCollection): Promise<void> {
    await this.ready;
    (this.map.getSource(key) as GeoJSONSource).setData(doc);
  }

  /** Move the view to show a set of features. */
  async fitTo(doc: FeatureCollection, maxZoom = 15): Promise<void> {
    await this.ready;
    const bounds = boundsOf(doc);
    if (bounds) this.map.fitBounds(bounds, { padding: 60, maxZoom, duration: 400 });
  }

  heatTileUrl(): string {
    const path = "/api/v1/analysis/heat/tiles/{z}/{x}/{y}.png";
    return `${location.origin}${withQuery(path, { since: this.window.since })}`
      .replace("%7Bz%7D", "{z}")
      .replace("%7Bx%7D", "{x}")
      .replace("%7By%7D", "{y}");
  }

  private addSourcesAndLayers(): void {
    const m = this.map;
    const hidden = { visibility: "none" as const };
    for (const level of [...ORG_LEVELS].reverse()) {
      const style = ORG_STYLE[level];
      m.addSource(`org-${level}`, { type: "geojson", data: EMPTY });
      m.addLayer({
        id: `org-${level}-fill`,
        type: "fill",
        source: `org-${level}`,
        layout: hidden,
        paint: { "fill-color": style.fill, "fill-opacity": 0.25 },
      });
    }
    m.addSource("heat", { type: "raster", tiles: [this.heatTileUrl()], tileSize: 256 });
    m.addLayer({
      id: "heat",
      type: "raster",
      source: "heat",
      layout: hidden,
      paint: { "raster-opacity": 0.75 },
    });
    m.addSource("hotspots", { type: "geojson", data: EMPTY });
    const colour: unknown[] = ["match", ["get", "class"]];
    for (const [cls, hex] of HOTSPOT_COLOURS) colour.push(cls, hex);
    colour.push("rgba(0,0,0,0)");
    m.addLayer({
      id: "hotspots",
      type: "fill",
      source: "hotspots",
      layout: hidden,
      paint: {
        "fill-color": colour as maplibregl.ExpressionSpecification,
        "fill-opacity": 0.7,
        "fill-outline-color": "rgba(80,80,80,0.35)",
      },
    });
    m.addSource("emerging", { type: "geojson", data: EMPTY });
    const category: unknown[] = ["match", ["get", "category"]];
    for (const c of EMERGING_CATEGORIES) category.push(c.code, c.colour);
    category.push("rgba(0,0,0,0)");
    m.addLayer({
      id: "emerging",
      type: "fill",
      source: "emerging",
      layout: hidden,
      filter: ["!=", ["get", "category"], 0],
      paint: {
        "fill-color": category as maplibregl.ExpressionSpecification,
        "fill-opacity": 0.7,
        "fill-outline-color": "rgba(80,80,80,0.35)",
      },
    });
    m.addSource("roads", { type: "geojson", data: EMPTY });
    const roadColour: unknown[] = ["match", ["get", "class"]];
    for (const [cls, hex] of Object.entries(ROAD_COLOURS)) roadColour.push(cls, hex);
    roadColour.push("#dddddd");
    m.addLayer({
      id: "roads",
      type: "line",
      source: "roads",
      layout: { ...hidden, "line-cap": "round", "line-join": "round" },
      paint: {
        "line-color": roadColour as maplibregl.ExpressionSpecification,
        "line-width": [
          "match",
          ["get", "class"],
          ["motorway", "trunk"],
          3,
          "primary",
          2.2,
          "secondary",
          1.6,
          1,
        ],
      },
    });
    for (const level of [...ORG_LEVELS].reverse()) {
      const style = ORG_STYLE[level];
      m.addLayer({
        id: `org-${level}-line`,
        type: "line",
        source: `org-${level}`,
        layout: hidden,
        paint: { "line-color": style.line, "line-width": style.width },
      });
    }
    m.addSource("sites", { type: "geojson", data: EMPTY });
    m.addLayer({
      id: "sites-area",
      type: "fill",
      source: "sites",
      layout: hidden,
      filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#7b3294", "fill-opacity": 0.25, "fill-outline-color": "#7b3294" },
    });
    m.addLayer({
      id: "sites",
      type: "circle",
      source: "sites",
      layout: hidden,
      filter: ["==", ["geometry-type"], "Point"],
      paint: {
        "circle-radius": ["match", ["get", "protection_level"], 1, 7, 2, 5.5, 4.5],
        "circle-color": ["match", ["get", "protection_level"], 1, "#7b3294", 2, "#a461c0", "#c2a5cf"],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.2,
      },
    });
    m.addSource("incidents", {
      type: "geojson",
      data: EMPTY,
      cluster: true,
      clusterRadius: 40,
      clusterMaxZoom: 15,
    });
    m.addLayer({
      id: "incident-clusters",
      type: "circle",
      source: "incidents",
      layout: hidden,
      filter: ["has", "point_count"],
      paint: {
        "circle-color": ["step", ["get", "point_count"], "#41b6c4", 20, "#2c7fb8", 100, "#253494"],
        "circle-radius": ["step", ["get", "point_count"], 10, 20, 15, 100, 21],
        "circle-opacity": 0.85,
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": 1.5,
      },
    });
    m.addLayer({
      id: "incident-points",
      type: "circle",
      source: "incidents",
      layout: hidden,
      filter: ["!", ["has", "point_count"]],
      paint: {
        "circle-color": ["step", ["get", "severity"], "#fecc5c", 3, "#fd8d3c", 4, "#e31a1c"],
        "circle-radius": 5,
        "circle-stroke-color": "#333333",
        "circle-stroke-width": 0.8,
      },
    });
    addCameraLayers(m, "incident-clusters");
  }

  private layerIds(key: LayerKey): string[] {
    if (key.startsWith("org-")) return [`${key}-fill`, `${key}-line`];
    if (key === "sites") return ["sites", "sites-area"];
    if (key === "incidents") return ["incident-clusters", "incident-points"];
    if (isCameraLayer(key)) return cameraLayerIds(key);
    return [key];
  }

  private async load(key: LayerKey): Promise<void> {
    const viewDependent = key === "roads" || key === "incidents" || key === "blind-spots";
    if (this.loadedOnce.has(key) && !viewDependent) return;
    // A newer load of the same layer (a pan, a new window) supersedes this one.
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    const current = (): boolean => this.generations.get(key) === generation;
    this.events.onStatus(key, "loading");
    try {
      const apply = await this.fetchLayer(key);
      if (!current()) return;
      apply();
      // "loaded" once the map has drawn it, so a status watcher sees it on screen.
      await this.map.once("idle");
      if (!current()) return;
      this.loadedOnce.add(key);
      this.events.onStatus(key, "loaded");
    } catch (exc) {
      if (current()) {
        this.events.onStatus(key, "error", exc instanceof Error ? exc.message : String(exc));
      }
    }
  }

  /** Fetch a layer's data; the returned function puts it on the map. */
  private async fetchLayer(key: LayerKey): Promise<() => void> {
    if (key.startsWith("org-")) return this.fetchOrg(key.slice(4) as OrgLevel);
    if (key === "sites") return this.fetchGeoJson("sites", "/api/v1/places", { limit: 5000 });
    if (key === "hotspots") {
      return this.fetchGeoJson("hotspots", "/api/v1/analysis/hotspots", {
        since: this.window.since,
        cell_size_m: HOTSPOT_CELL_M,
        significant_only: true,
      });
    }
    if (key === "heat") return () => this.showHeat();
    if (key === "emerging") return this.fetchEmerging();
    if (isCameraLayer(key)) return this.cameraData.fetch(key, this.bbox());
    if (key === "roads") {
      return this.fetchGeoJson("roads", "/api/v1/map/roads.geojson", {
        bbox: this.bbox(),
        min_class: minRoadClass(this.map.getZoom()),
        limit: 8000,
      });
    }
    this.typeNames ??= getJson<IncidentType[]>("/api/v1/incidents/types")
      .then((types) => new Map(types.map((it) => [it.code, it])))
      .catch(() => new Map());
    await this.typeNames;
    return this.fetchIncidents();
  }

  private async fetchGeoJson(source: string, path: string, query: Query): Promise<() => void> {
    const doc = await getJson<FeatureCollection>(path, query);
    return () => (this.map.getSource(source) as GeoJSONSource).setData(doc);
  }

  /** Emerging hotspots over the last 12 weeks (its own window: it needs several steps). */
  private async fetchEmerging(): Promise<() => void> {
    const doc = await getJson<FeatureCollection & { summary?: { categories?: Record<string, number> } }>(
      "/api/v1/analysis/emerging",
      { cell_size_m: HOTSPOT_CELL_M, step: "week", steps: 12 },
    );
    return () => {
      (this.map.getSource("emerging") as GeoJSONSource).setData(doc);
      this.events.onEmergingCategories(doc.summary?.categories ?? {});
    };
  }

  private async fetchOrg(level: OrgLevel): Promise<() => void> {
    const doc = await getJson<FeatureCollection>("/api/v1/org/units.geojson", { level });
    return () => {
      (this.map.getSource(`org-${level}`) as GeoJSONSource).setData(doc);
      const bounds = boundsOf(doc);
      if (!this.fitted && bounds) {
        this.fitted = true;
        this.map.fitBounds(bounds, { padding: 30, duration: 0 });
      }
    };
  }

  private showHeat(): void {
    const source = this.map.getSource("heat") as RasterTileSource;
    const url = this.heatTileUrl();
    // Setting the same URL again would fetch every tile twice.
    if (source.tiles?.[0] !== url) source.setTiles([url]);
  }

  private bbox(): string {
    const b = this.map.getBounds();
    const clamp = (v: number, lim: number): number => Math.max(-lim, Math.min(lim, v));
    return [
      clamp(b.getWest(), 180),
      clamp(b.getSouth(), 90),
      clamp(b.getEast(), 180),
      clamp(b.getNorth(), 90),
    ]
      .map((v) => v.toFixed(5))
      .join(",");
  }

  /** Incidents in the view, page by page up to the cap. */
  private async fetchIncidents(): Promise<() => void> {
    const bbox = this.bbox();
    const features: Feature[] = [];
    let after: number | undefined;
    let capped = false;
    for (;;) {
      const page = await getJson<{ items: IncidentRow[]; next_after_id: number | null }>(
        "/api/v1/incidents",
        { since: this.window.since, bbox, limit: INCIDENT_PAGE, after_id: after },
      );
      for (const row of page.items) features.push(incidentFeature(row));
      if (page.next_after_id === null) break;
      if (features.length >= INCIDENT_CAP) {
        capped = true;
        break;
      }
      after = page.next_after_id;
    }
    return () => {
      const source = this.map.getSource("incidents") as GeoJSONSource;
      source.setData({ type: "FeatureCollection", features });
      this.events.onIncidentCount(features.length, capped);
    };
  }

  private viewChanged(): void {
    window.clearTimeout(this.moveTimer);
    this.moveTimer = window.setTimeout(() => {
      for (const key of ["roads", "incidents", "blind-spots"] as const) {
        if (this.enabled.has(key)) void this.load(key);
      }
    }, 250);
  }

  private click(point: maplibregl.PointLike): void {
    const over = this.map.queryRenderedFeatures(point, { layers: [...OVERLAY_LAYERS] });
    over.sort(
      (a, b) =>
        OVERLAY_LAYERS.indexOf(a.layer.id as never) - OVERLAY_LAYERS.indexOf(b.layer.id as never),
    );
    // Overlays come first, except an alert's area: a dispatcher clicking an incident
    // inside an alert wants the incident, so the map's own points are asked first.
    const [top] = over;
    if (top && top.layer.id !== ALERT_AREA && this.events.onOverlay) {
      this.events.onOverlay(top.layer.id, { ...top.properties });
      return;
    }
    const order = [
      "incident-points",
      "incident-clusters",
      ...CAMERA_CLICK_LAYERS,
      "sites",
      "sites-area",
      "hotspots",
      "emerging",
      "roads",
      ...ORG_LEVELS.map((l) => `org-${l}-fill`),
    ];
    const layers = order.filter(
      (id) => this.map.getLayer(id) && this.map.getLayoutProperty(id, "visibility") === "visible",
    );
    const hits = layers.length > 0 ? this.map.queryRenderedFeatures(point, { layers }) : [];
    hits.sort((a, b) => order.indexOf(a.layer.id) - order.indexOf(b.layer.id));
    const hit = hits[0];
    // Away from any point (a circle layer), a click in an alert's area opens the alert.
    if (top && hit?.layer.type !== "circle" && this.events.onOverlay) {
      this.events.onOverlay(top.layer.id, { ...top.properties });
      return;
    }
    if (hit) void this.showDetail(hit);
    if (hit?.layer.id === "incident-clusters") void this.zoomInto(hit);
    if (hit?.layer.id === "camera-clusters") {
      // Server-side clusters: two zoom levels in shows what they hold.
      const geometry = hit.geometry as GeoJSON.Point;
      this.map.easeTo({ center: geometry.coordinates as [number, number], zoom: this.map.getZoom() + 2 });
    }
  }

  private async showDetail(hit: MapGeoJSONFeature): Promise<void> {
    const camera = describeCameraHit(hit);
    if (camera) {
      this.events.onDetail(camera);
      return;
    }
    const names = (await this.typeNames) ?? new Map<string, IncidentType>();
    this.events.onDetail(describe(hit, names));
  }

  private async zoomInto(cluster: MapGeoJSONFeature): Promise<void> {
    const source = this.map.getSource("incidents") as GeoJSONSource;
    const zoom = await source.getClusterExpansionZoom(Number(cluster.properties.cluster_id));
    const geometry = cluster.geometry as GeoJSON.Point;
    this.map.easeTo({ center: geometry.coordinates as [number, number], zoom });
  }
}

interface IncidentRow {
  id: number;
  type: string;
  occurred_at: string;
  lon: number;
  lat: number;
  severity: number;
  status: string;
  summary: string | null;
  grid_id: number;
}

function incidentFeature(row: IncidentRow): Feature {
  return {
    type: "Feature",
    id: row.id,
    geometry: { type: "Point", coordinates: [row.lon, row.lat] },
    properties: {
      id: row.id,
      type: row.type,
      occurred_at: row.occurred_at,
      severity: row.severity,
      status: row.status,
      summary: row.summary,
      grid_id: row.grid_id,
    },
  };
}

interface IncidentType {
  code: string;
  name_zh: string;
  name_en: string;
}

function describe(hit: MapGeoJSONFeature, typeNames: Map<string, IncidentType>): Detail {
  const p = { ...hit.properties } as Record<string, unknown>;
  const name = (p.name_zh ?? p.name ?? p.code ?? p.label ?? hit.id ?? "") as string;
  switch (hit.layer.id) {
    case "incident-points":
      return {
        kind: "incident",
        title: () => {
          const known = typeNames.get(String(p.type));
          const name = known ? (lang() === "zh" ? known.name_zh : known.name_en) : p.type;
          return `#${String(p.id)} ${String(name)}`;
        },
        properties: p,
      };
    case "incident-clusters":
      return {
        kind: "cluster",
        title: String(p.point_count),
        properties: { count: p.point_count },
      };
    case "sites":
    case "sites-area":
      return { kind: "site", title: name, properties: p };
    case "hotspots":
      return {
        kind: "hotspotCell",
        title: () => {
          const key = HOTSPOT_LABELS[Number(p.class)];
          return key ? t(key) : String(p.label ?? "");
        },
        properties: p,
      };
    case "emerging":
      return {
        kind: "emergingCell",
        title: () => emergingName(String(p.category_name ?? "")),
        properties: p,
      };
    case "roads":
      return { kind: "road", title: String(p.name ?? p.class ?? ""), properties: p };
    default:
      return { kind: "orgUnit", title: name, properties: p };
  }
}
