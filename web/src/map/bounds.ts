import type { LngLatBoundsLike } from "maplibre-gl";
import type { FeatureCollection } from "../api";

function walk(coords: unknown, visit: (x: number, y: number) => void): void {
  if (!Array.isArray(coords)) return;
  if (typeof coords[0] === "number" && typeof coords[1] === "number") {
    visit(coords[0], coords[1]);
    return;
  }
  for (const child of coords) walk(child, visit);
}

/** The extent of a collection's geometries, or null when it has none. */
export function boundsOf(doc: FeatureCollection): LngLatBoundsLike | null {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const feature of doc.features) {
    const geometry = feature.geometry as { coordinates?: unknown } | null;
    walk(geometry?.coordinates, (x, y) => {
      west = Math.min(west, x);
      east = Math.max(east, x);
      south = Math.min(south, y);
      north = Math.max(north, y);
    });
  }
  return Number.isFinite(west) ? [west, south, east, north] : null;
}
