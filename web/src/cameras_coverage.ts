import { getJson, type FeatureCollection } from "./api";
import {
  byRoadClass,
  km,
  numberInput,
  pickRow,
  problem,
  roadClassName,
  select,
  share,
  shareCell,
  table,
  type Unit,
} from "./cameras_api";
import type { CamerasContext } from "./cameras";
import { button, el, field } from "./dom";
import { formatNumber, lang, t, type Key } from "./i18n";
import { ORG_LEVELS } from "./map/style";
import { unitName } from "./names";

interface ClassCoverage {
  road_class: string;
  total_m: number;
  covered_m: number;
  share: number;
}

interface AreaCoverage {
  org_unit_id: number;
  code: string;
  name: string;
  total_m: number;
  covered_m: number;
  share: number;
  incident_share: number | null;
  road_classes: ClassCoverage[];
}

interface CoverageReport {
  segments: number;
  cameras: number;
  total_m: number;
  covered_m: number;
  share: number;
  areas: AreaCoverage[];
  road_classes: ClassCoverage[];
  sites: Array<{
    place_id: number;
    code: string;
    name: string;
    protection_level: number;
    total_m: number;
    share: number;
    backup_share: number;
  }>;
}

// Past this many rows (grids of a big city) the table shows the least covered.
const MAX_ROWS = 200;

/** Coverage by area (any org level), by road class, and around key sites. */
export class CoverageTab {
  readonly root = el("div", "cam-coverage");
  private level = "district";
  private days = 365;
  private radius = 150;
  private report: CoverageReport | null = null;
  private error = "";
  private busy = false;
  /** The area picked in the table: the road classes are then that area's. */
  private area: AreaCoverage | null = null;
  private readonly names = new Map<number, [string, string]>();
  private readonly namedLevels = new Set<string>();

  constructor(private readonly ctx: CamerasContext) {}

  async open(): Promise<void> {
    this.ctx.showLayer("coverage");
    if (!this.report) await this.load();
    this.render();
  }

  /** An area's name in the console's language (the report carries the English one). */
  private unitLabel(a: AreaCoverage): string {
    const names = this.names.get(a.org_unit_id);
    return names ? (lang() === "zh" ? names[0] : names[1]) : a.name;
  }

  /** Names of every unit of a level, a page of 1000 at a time, once per level. */
  private async loadNames(level: string): Promise<void> {
    if (this.namedLevels.has(level)) return;
    let after: number | undefined;
    for (;;) {
      const page = await getJson<{ items: Unit[]; next_after_id: number | null }>("/api/v1/org/units", {
        level,
        limit: 1000,
        after_id: after,
      });
      for (const u of page.items) this.names.set(u.id, [u.name_zh, u.name_en]);
      if (page.next_after_id === null) break;
      after = page.next_after_id;
    }
    this.namedLevels.add(level);
  }

  private async load(): Promise<void> {
    this.busy = true;
    this.render();
    try {
      this.area = null;
      this.report = await getJson<CoverageReport>("/api/v1/cameras/coverage", {
        level: this.level,
        incident_days: this.days,
        site_radius_m: this.radius,
      });
      await this.loadNames(this.level).catch(() => undefined);
      this.error = "";
    } catch (exc) {
      this.error = problem(exc);
    }
    this.busy = false;
  }

  render(): void {
    this.root.innerHTML = "";
    this.root.append(this.form());
    if (this.busy) this.root.append(el("p", "meta", t("loading")));
    if (this.error) this.root.append(el("p", "error", this.error));
    const r = this.report;
    if (!r || this.busy) return;
    const totals = el("p", "cam-totals");
    totals.id = "cam-coverage-totals";
    totals.textContent = t("camCoverageTotals", {
      total: km(r.total_m),
      covered: km(r.covered_m),
      share: share(r.share),
      cameras: r.cameras,
    });
    this.root.append(totals, this.areaTable(r), this.classTable(r), this.siteTable(r));
  }

  private form(): HTMLFormElement {
    const form = el("form", "filters") as HTMLFormElement;
    const level = select(
      "cam-cov-level",
      "camLevel",
      ORG_LEVELS.map((l): [string, string] => [l, t(l as Key)]),
      this.level,
    );
    const days = numberInput(this.days, 1, 3650);
    const radius = numberInput(this.radius, 1, 2000);
    const go = button(t("camShow"));
    go.type = "submit";
    form.append(
      level.wrap,
      field("cam-cov-days", t("camIncidentDays"), days),
      field("cam-cov-radius", t("camSiteRadius"), radius),
      go,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.level = level.control.value;
      this.days = Number(days.value);
      this.radius = Number(radius.value);
      void this.load().then(() => this.render());
    });
    return form;
  }

  private areaTable(r: CoverageReport): HTMLElement {
    const { box, body } = tableSection(
      "camByArea",
      ["camColArea", "camColTotalKm", "camColCoveredKm", "camColShare", "camColIncidentShare"],
      "cam-area-table",
    );
    const rows = [...r.areas].sort((a, b) => a.share - b.share).slice(0, MAX_ROWS);
    for (const a of rows) {
      const name = this.unitLabel(a);
      const row = pickRow(body, `${a.code} ${name}`, [name, km(a.total_m), km(a.covered_m)], () => {
        this.area = this.area?.org_unit_id === a.org_unit_id ? null : a;
        this.render();
        if (this.area) void this.showArea(a.org_unit_id);
        this.root.querySelector<HTMLElement>(`tr[data-unit="${a.org_unit_id}"] button`)?.focus();
      });
      row.querySelector("button")?.setAttribute("aria-expanded", String(this.area?.org_unit_id === a.org_unit_id));
      row.dataset.unit = String(a.org_unit_id);
      row.cells[0].classList.add("wrap");
      row.cells[0].append(el("span", "code", a.code));
      shareCell(row, a.share);
      shareCell(row, a.incident_share);
      if (this.area?.org_unit_id === a.org_unit_id) {
        row.classList.add("selected");
        // The picked area's streets by road class, right under its row.
        const cell = body.insertRow().insertCell();
        cell.colSpan = 5;
        cell.className = "cam-area-detail";
        const caption = `${t("camByClass")} · ${name}`;
        cell.append(this.classList(a.road_classes, caption, "cam-area-classes"));
      }
    }
    box.append(el("p", "meta", t("camIncidentShareHint", { n: this.days })));
    return box;
  }

  private async showArea(id: number): Promise<void> {
    try {
      const unit = await getJson<Unit>(`/api/v1/org/units/${id}`);
      if (unit.boundary) {
        const doc: FeatureCollection = {
          type: "FeatureCollection",
          features: [{ type: "Feature", geometry: unit.boundary, properties: { id } }],
        };
        this.ctx.focus(doc, 16);
      }
    } catch (exc) {
      this.error = problem(exc);
      this.render();
    }
  }

  private classTable(r: CoverageReport): HTMLElement {
    const box = el("section", "cam-section");
    box.append(el("h3", "", `${t("camByClass")} · ${t("camWholeCity")}`));
    box.append(this.classList(r.road_classes, t("camByClass"), "cam-class-table"));
    return box;
  }

  private classList(classes: ClassCoverage[], caption: string, className: string): HTMLTableElement {
    const { table: tbl, body } = table(
      "camByClass",
      ["camColClass", "camColTotalKm", "camColCoveredKm", "camColShare"],
      className,
    );
    const cap = tbl.querySelector("caption") as HTMLElement;
    cap.textContent = caption;
    // Under an area's row the caption says whose classes these are.
    if (className === "cam-area-classes") cap.className = "";
    for (const c of byRoadClass(classes)) {
      const row = body.insertRow();
      row.insertCell().textContent = roadClassName(c.road_class);
      row.insertCell().textContent = km(c.total_m);
      row.insertCell().textContent = km(c.covered_m);
      shareCell(row, c.share);
    }
    return tbl;
  }

  private siteTable(r: CoverageReport): HTMLElement {
    const { box, body } = tableSection(
      "camBySite",
      ["camColSite", "camColProtection", "camColTotalKm", "camColShare", "camColBackup"],
      "cam-site-table",
    );
    for (const s of [...r.sites].sort((a, b) => a.protection_level - b.protection_level || a.share - b.share)) {
      const row = body.insertRow();
      const name = row.insertCell();
      name.className = "wrap";
      name.textContent = s.name;
      row.insertCell().textContent = String(s.protection_level);
      row.insertCell().textContent = km(s.total_m);
      shareCell(row, s.share);
      shareCell(row, s.backup_share);
    }
    return box;
  }
}

/** A titled section around one scrollable table; rows go into `body`. */
function tableSection(
  title: Key,
  columns: Key[],
  className: string,
): { box: HTMLElement; body: HTMLTableSectionElement } {
  const box = el("section", "cam-section");
  box.append(el("h3", "", t(title)));
  const { table: tbl, body } = table(title, columns, className);
  const wrap = el("div", "table-wrap");
  wrap.append(tbl);
  box.append(wrap);
  return { box, body };
}

interface BlindSpot extends GeoJSON.Feature {
  properties: {
    rank: number;
    incidents_near: number;
    population_per_km2: number | null;
    road_class: string;
    length_m: number;
    grid_id: number | null;
  };
}

const BLIND_SHOWN = 50;

/** Blind spots: uncovered street ranked by incidents, then population nearby. */
export class BlindSpotsTab {
  readonly root = el("div", "cam-blind");
  private spots: BlindSpot[] = [];
  private inView = false;
  private days = 365;
  private picked: number | null = null;
  private error = "";
  private loaded = false;

  constructor(private readonly ctx: CamerasContext) {}

  async open(): Promise<void> {
    this.ctx.showLayer("blind-spots");
    if (!this.loaded) await this.load();
    this.render();
  }

  private async load(): Promise<void> {
    this.loaded = true;
    try {
      const doc = await getJson<FeatureCollection>("/api/v1/cameras/blind-spots", {
        limit: BLIND_SHOWN,
        incident_days: this.days,
        bbox: this.inView ? this.ctx.viewBox() : undefined,
      });
      this.spots = doc.features as BlindSpot[];
      this.error = "";
    } catch (exc) {
      this.spots = [];
      this.error = problem(exc);
    }
  }

  render(): void {
    this.root.innerHTML = "";
    const form = el("form", "filters") as HTMLFormElement;
    const inView = document.createElement("input");
    inView.type = "checkbox";
    inView.checked = this.inView;
    inView.id = "cam-blind-inview";
    const inViewLabel = document.createElement("label");
    inViewLabel.className = "inline";
    inViewLabel.append(inView, document.createTextNode(t("camInView")));
    const days = numberInput(this.days, 1, 3650);
    const go = button(t("camShow"));
    go.type = "submit";
    form.append(field("cam-blind-days", t("camIncidentDays"), days), inViewLabel, go);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.inView = inView.checked;
      this.days = Number(days.value);
      void this.load().then(() => this.render());
    });
    this.root.append(el("p", "meta", t("camBlindHint")), form);
    if (this.error) this.root.append(el("p", "error", this.error));
    const { table: tbl, body } = table(
      "camBlindTable",
      ["camColRank", "camColClass", "camColIncidentsNear", "camColPopulation", "camColLength", "camColGrid"],
      "cam-blind-table",
    );
    for (const spot of this.spots) {
      const p = spot.properties;
      const row = pickRow(
        body,
        `${t("blindSpot")} ${p.rank}`,
        [
          String(p.rank),
          roadClassName(p.road_class),
          formatNumber(p.incidents_near),
          p.population_per_km2 === null ? "—" : formatNumber(Math.round(p.population_per_km2)),
          formatNumber(p.length_m),
          p.grid_id === null ? "—" : `#${p.grid_id}`,
        ],
        () => this.pick(spot),
      );
      row.dataset.rank = String(p.rank);
      if (this.picked === p.rank) row.classList.add("selected");
      const gridCell = row.cells[5];
      if (p.grid_id !== null) void unitName(p.grid_id).then((n) => (gridCell.textContent = n));
    }
    if (this.spots.length === 0 && !this.error) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 6;
      cell.textContent = t("camNoBlind");
    }
    const wrap = el("div", "table-wrap");
    wrap.append(tbl);
    this.root.append(wrap);
  }

  /** Show one blind spot on the map. */
  pick(spot: BlindSpot): void {
    this.picked = spot.properties.rank;
    // A 10 m piece is hard to see: a ring at its middle marks it too.
    const line = spot.geometry as GeoJSON.LineString;
    const middle = line.coordinates[Math.floor(line.coordinates.length / 2)];
    const ring: GeoJSON.Feature = { type: "Feature", geometry: { type: "Point", coordinates: middle }, properties: {} };
    this.ctx.focus({ type: "FeatureCollection", features: [spot, ring] }, 17);
    for (const row of this.root.querySelectorAll<HTMLElement>("tr[data-rank]")) {
      row.classList.toggle("selected", row.dataset.rank === String(this.picked));
    }
  }
}
