// Shapes of the camera API (src/pingan/cameras/schemas.py, health_schemas.py)
// and small helpers the Cameras screen's tabs share.
import { ApiError, getJson } from "./api";
import { el, field } from "./dom";
import { CITY_ZONE, formatNumber, lang, t, type Key } from "./i18n";

export const NETWORKS = [
  "public_hd",
  "city_management",
  "social",
  "community",
  "school",
  "hospital",
  "transport",
  "other",
] as const;
export const CAMERA_STATUSES = ["active", "maintenance", "retired"] as const;

export interface Camera {
  id: number;
  owner_id: number;
  owner_camera_id: string;
  network: string;
  name: string | null;
  status: string;
  org_unit_id: number | null;
  lon: number;
  lat: number;
  height_m: number | null;
  heading_deg: number;
  fov_deg: number;
  range_m: number;
  resolution: string | null;
  ptz: boolean;
  installed_on: string | null;
  access_level: string;
  sharing_contact: string | null;
}

export interface Owner {
  id: number;
  code: string;
  name: string;
}

export interface Unit {
  id: number;
  code: string;
  name_zh: string;
  name_en: string;
  boundary?: GeoJSON.Geometry | null;
}

export interface Outage {
  id: number;
  camera_id: number;
  started_at: string;
  ended_at: string | null;
  duration_minutes: number | null;
  cause: string;
  detected_at: string;
  notices: Array<{ kind: string; recipient: string; at: string }>;
}

export interface CameraHealth {
  camera_id: number;
  owner_id: number;
  network: string;
  name: string | null;
  state: string;
  state_since: string | null;
  last_seen_at: string | null;
  fps: number | null;
  bitrate_kbps: number | null;
  reports: number;
}

let owners: Promise<Map<number, Owner>> | null = null;

/** Owners by id, fetched once. */
export function ownersById(): Promise<Map<number, Owner>> {
  owners ??= getJson<Owner[]>("/api/v1/cameras/owners")
    .then((rows) => new Map(rows.map((o) => [o.id, o])))
    .catch(() => new Map());
  return owners;
}

export function networkName(network: string): string {
  return (NETWORKS as readonly string[]).includes(network) ? t(`net_${network}` as Key) : network;
}

const ROAD_CLASSES: Record<string, [string, string]> = {
  motorway: ["高速公路", "Motorway"],
  trunk: ["快速路", "Trunk"],
  primary: ["主干路", "Primary"],
  secondary: ["次干路", "Secondary"],
  tertiary: ["支路", "Tertiary"],
  residential: ["居住区道路", "Residential"],
  service: ["服务道路", "Service"],
  unclassified: ["其他道路", "Unclassified"],
};

/** Road classes from the most important down (unknown ones last). */
export function byRoadClass<T extends { road_class: string }>(rows: T[]): T[] {
  const order = Object.keys(ROAD_CLASSES);
  const rank = (c: string): number => (order.includes(c) ? order.indexOf(c) : order.length);
  return [...rows].sort((a, b) => rank(a.road_class) - rank(b.road_class));
}

export function roadClassName(cls: string): string {
  const names = ROAD_CLASSES[cls];
  return names ? names[lang() === "zh" ? 0 : 1] : cls;
}

export function share(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${formatNumber(Math.round(value * 1000) / 10)}%`;
}

/** A time in the city's zone, short enough for a table cell (month, day, hour, minute). */
export function shortDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", {
    timeZone: CITY_ZONE,
    month: "numeric",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

export function km(metres: number): string {
  return formatNumber(Math.round(metres / 10) / 100);
}

export function problem(exc: unknown): string {
  return exc instanceof ApiError ? exc.detail : String(exc);
}

/** A table with a caption (for screen readers) and column heads. */
export function table(caption: Key, heads: Key[], className = ""): {
  table: HTMLTableElement;
  body: HTMLTableSectionElement;
} {
  const tbl = document.createElement("table");
  tbl.className = `grid-table cam-table ${className}`.trim();
  const cap = document.createElement("caption");
  cap.className = "visually-hidden";
  cap.textContent = t(caption);
  const head = tbl.createTHead().insertRow();
  for (const h of heads) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t(h);
    head.append(th);
  }
  tbl.append(cap);
  return { table: tbl, body: tbl.createTBody() };
}

/** A row whose first cell is a button (keyboard reachable) that picks the row. */
export function pickRow(
  body: HTMLTableSectionElement,
  label: string,
  cells: string[],
  pick: () => void,
): HTMLTableRowElement {
  const row = body.insertRow();
  const first = row.insertCell();
  const b = document.createElement("button");
  b.type = "button";
  b.className = "link";
  b.textContent = cells[0];
  b.setAttribute("aria-label", label);
  b.addEventListener("click", pick);
  first.append(b);
  for (const text of cells.slice(1)) row.insertCell().textContent = text;
  return row;
}

/** A share as a small bar with its number, for tables of coverage. */
export function shareCell(row: HTMLTableRowElement, value: number | null): void {
  const cell = row.insertCell();
  cell.className = "share-cell";
  if (value === null) {
    cell.textContent = "—";
    return;
  }
  const bar = el("span", "share-bar");
  const fill = el("span", "share-fill");
  fill.style.width = `${Math.max(0, Math.min(100, value * 100))}%`;
  bar.append(fill);
  bar.setAttribute("aria-hidden", "true");
  cell.append(bar, document.createTextNode(share(value)));
}

export function select(
  id: string,
  label: Key,
  options: Array<[string, string]>,
  value = "",
): { wrap: HTMLElement; control: HTMLSelectElement } {
  const control = document.createElement("select");
  for (const [v, text] of options) control.add(new Option(text, v));
  control.value = value;
  return { wrap: field(id, t(label), control), control };
}

export function numberInput(value: number, min: number, max: number, step = "1"): HTMLInputElement {
  const input = document.createElement("input");
  input.type = "number";
  input.min = String(min);
  input.max = String(max);
  input.step = step;
  input.value = String(value);
  return input;
}
