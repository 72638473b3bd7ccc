import type { StyleSpecification } from "maplibre-gl";
import type { Key } from "../i18n";

// The base map is the city's own layers, so the style starts empty: no online
// tiles, no glyphs or sprites from the internet.
export const BASE_STYLE: StyleSpecification = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }],
};

export const ORG_LEVELS = ["district", "subdistrict", "community", "grid"] as const;
export type OrgLevel = (typeof ORG_LEVELS)[number];

export const ORG_STYLE: Record<OrgLevel, { line: string; width: number; fill: string }> = {
  district: { line: "#3b4a6b", width: 2.2, fill: "#c9d3e6" },
  subdistrict: { line: "#5d6f94", width: 1.4, fill: "#d8dfec" },
  community: { line: "#8a99b8", width: 0.9, fill: "#e3e8f1" },
  grid: { line: "#aab5cc", width: 0.5, fill: "#edf0f6" },
};

// Hotspot classes -3..3 (Gi*): cold blues, hot reds, none for not significant.
export const HOTSPOT_COLOURS: Array<[number, string]> = [
  [3, "#b2182b"],
  [2, "#ef8a62"],
  [1, "#fddbc7"],
  [-1, "#d1e5f0"],
  [-2, "#67a9cf"],
  [-3, "#2166ac"],
];

export const HOTSPOT_LABELS: Record<number, Key> = {
  3: "hot99",
  2: "hot95",
  1: "hot90",
  0: "notSignificant",
  [-1]: "cold90",
  [-2]: "cold95",
  [-3]: "cold99",
};

// Emerging hotspot categories (analytics/emerging.py): code, name, colour.
// Hot 1..8 in reds and oranges, cold -1..-8 in blues; 0 (no pattern) is not drawn.
const EMERGING_KINDS = [
  "new", "consecutive", "intensifying", "persistent",
  "diminishing", "sporadic", "oscillating", "historical",
] as const;
const HOT_RAMP = ["#fee08b", "#fdae61", "#d73027", "#a50026", "#f4a582", "#fdd49e", "#e08214", "#bababa"];
const COLD_RAMP = ["#e0f3f8", "#abd9e9", "#4575b4", "#313695", "#92c5de", "#d1e5f0", "#8073ac", "#cccccc"];

export const EMERGING_CATEGORIES: Array<{ code: number; name: string; colour: string }> = [
  ...EMERGING_KINDS.map((kind, i) => ({ code: i + 1, name: `${kind} hot spot`, colour: HOT_RAMP[i] })),
  ...EMERGING_KINDS.map((kind, i) => ({
    code: -(i + 1),
    name: `${kind} cold spot`,
    colour: COLD_RAMP[i],
  })),
];

export const ROAD_COLOURS: Record<string, string> = {
  motorway: "#d98c3a",
  trunk: "#e0a050",
  primary: "#e8be6a",
  secondary: "#c9c9c9",
  tertiary: "#d4d4d4",
};

/** Least important road class worth drawing at a zoom. */
export function minRoadClass(zoom: number): string {
  if (zoom < 11) return "trunk";
  if (zoom < 12.5) return "secondary";
  if (zoom < 14) return "tertiary";
  return "service";
}
