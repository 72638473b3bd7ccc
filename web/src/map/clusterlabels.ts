import maplibregl from "maplibre-gl";
import { formatNumber } from "../i18n";

/**
 * Counts on incident clusters, drawn as small HTML labels: the style has no
 * glyphs (no fonts from the internet), so symbol layers cannot draw text.
 */
export class ClusterLabels {
  private readonly markers = new Map<string, maplibregl.Marker>();
  private pending = false;

  constructor(
    private readonly map: maplibregl.Map,
    private readonly source: string,
    private readonly layer: string,
    /** Server-side clusters in vector tiles: their layer and count property. */
    private readonly vector?: { sourceLayer: string; countProperty: string },
  ) {
    map.on("render", () => this.schedule());
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.update();
    });
  }

  private visible(): boolean {
    return this.map.getLayer(this.layer) !== undefined
      && this.map.getLayoutProperty(this.layer, "visibility") === "visible";
  }

  /** A cluster's key and count, whether MapLibre or the server made it. */
  private clusterOf(feature: GeoJSON.Feature): { cluster_id?: number | string; point_count?: number } {
    const props = feature.properties as Record<string, unknown>;
    if (!this.vector) return props as { cluster_id?: number; point_count?: number };
    const count = props[this.vector.countProperty];
    if (typeof count !== "number") return {};
    // A cluster appears once per tile it is cut into: its position is its identity.
    const point = feature.geometry as GeoJSON.Point;
    return { cluster_id: point.coordinates.map((c) => c.toFixed(6)).join(","), point_count: count };
  }

  /** Keep one label per cluster on screen; drop the rest. */
  update(): void {
    const keep = new Set<string>();
    if (this.visible() && this.map.isSourceLoaded(this.source)) {
      const found = this.vector
        ? this.map.querySourceFeatures(this.source, { sourceLayer: this.vector.sourceLayer })
        : this.map.querySourceFeatures(this.source);
      for (const feature of found) {
        const props = this.clusterOf(feature);
        if (props.cluster_id === undefined) continue;
        // Cluster ids repeat across data sets: the count is part of the key.
        const key = `${props.cluster_id}:${props.point_count ?? 0}`;
        if (keep.has(key)) continue;
        keep.add(key);
        if (this.markers.has(key)) continue;
        const label = document.createElement("span");
        label.className = "cluster-count";
        label.textContent = formatNumber(props.point_count ?? 0);
        label.setAttribute("aria-hidden", "true");
        const point = feature.geometry as GeoJSON.Point;
        const marker = new maplibregl.Marker({ element: label })
          .setLngLat(point.coordinates as [number, number])
          .addTo(this.map);
        this.markers.set(key, marker);
      }
    }
    for (const [key, marker] of this.markers) {
      if (!keep.has(key)) {
        marker.remove();
        this.markers.delete(key);
      }
    }
  }
}
