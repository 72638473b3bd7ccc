import maplibregl, { type GeoJSONSource, type RasterTileSource } from "maplibre-gl";
import { ApiError, getJson, postJson, withQuery, type FeatureCollection } from "./api";
import { button, el, field } from "./dom";
import { cityToday, formatDate, formatNumber, t } from "./i18n";
import { JobPoller, jobStatusBox, showJob, showJobError, type Job } from "./jobs";
import { boundsOf } from "./map/bounds";
import { BASE_STYLE, HOTSPOT_COLOURS, HOTSPOT_LABELS } from "./map/style";

interface Summary {
  n_events?: number;
  classes?: Record<string, number>;
}

const KINDS = ["analysis.hotspots", "analysis.emerging", "analysis.heat"] as const;
const EMPTY: FeatureCollection = { type: "FeatureCollection", features: [] };
const PLAY_MS = 1200;
const WEEKS = 12;

function daysAgo(n: number): string {
  const [y, m, d] = cityToday().split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - n)).toISOString().slice(0, 10);
}

/** A small map of the districts, for side-by-side views. */
function smallMap(container: HTMLElement, districts: Promise<FeatureCollection>): maplibregl.Map {
  const map = new maplibregl.Map({
    container,
    style: BASE_STYLE,
    center: [121.47, 31.23],
    zoom: 9,
    attributionControl: false,
    fadeDuration: 0,
  });
  map.once("load", () => {
    map.addSource("districts", { type: "geojson", data: EMPTY });
    map.addSource("hotspots", { type: "geojson", data: EMPTY });
    const colour: unknown[] = ["match", ["get", "class"]];
    for (const [cls, hex] of HOTSPOT_COLOURS) colour.push(cls, hex);
    colour.push("rgba(0,0,0,0)");
    map.addLayer({
      id: "hotspots",
      type: "fill",
      source: "hotspots",
      paint: { "fill-color": colour as maplibregl.ExpressionSpecification, "fill-opacity": 0.75 },
    });
    map.addLayer({
      id: "districts",
      type: "line",
      source: "districts",
      paint: { "line-color": "#3b4a6b", "line-width": 1.2 },
    });
    void districts.then((doc) => {
      (map.getSource("districts") as GeoJSONSource).setData(doc);
      const bounds = boundsOf(doc);
      if (bounds) map.fitBounds(bounds, { padding: 10, duration: 0 });
    });
  });
  return map;
}

/**
 * Analytics: runs as jobs with their progress, two periods side by side, and
 * a play-through of the last weeks for the space-time view.
 */
export class AnalyticsView {
  private districts: Promise<FeatureCollection> | null = null;
  private maps: maplibregl.Map[] = [];
  private playMap: maplibregl.Map | null = null;
  private readonly jobs = new JobPoller(() => this.renderJob());
  private player: number | undefined;
  private week = WEEKS - 1;
  private built = false;

  constructor(private readonly root: HTMLElement) {
    root.classList.add("analytics");
  }

  open(): void {
    if (!this.built) {
      this.built = true;
      this.districts = getJson<FeatureCollection>("/api/v1/org/units.geojson", { level: "district" });
      this.render();
    }
    for (const m of [...this.maps, this.playMap]) m?.resize();
  }

  close(): void {
    window.clearInterval(this.player);
    this.player = undefined;
    const play = this.root.querySelector<HTMLButtonElement>("#play");
    if (play) play.textContent = t("play");
  }

  render(): void {
    for (const m of [...this.maps, this.playMap]) m?.remove();
    this.maps = [];
    this.root.innerHTML = "";
    this.root.append(el("h2", "", t("viewAnalytics")), this.runForm(), this.compare(), this.playThrough());
    this.renderJob();
  }

  // ---- runs as jobs ----

  private runForm(): HTMLElement {
    const form = el("form", "panel-box run-form") as HTMLFormElement;
    const kind = document.createElement("select");
    for (const k of KINDS) kind.add(new Option(t(k.replace("analysis.", "run_") as never), k));
    const since = document.createElement("input");
    since.type = "date";
    since.value = daysAgo(27);
    const until = document.createElement("input");
    until.type = "date";
    until.value = daysAgo(-1);
    const cell = document.createElement("input");
    cell.type = "number";
    cell.min = "50";
    cell.max = "5000";
    cell.value = "250";
    const perms = document.createElement("input");
    perms.type = "number";
    perms.min = "0";
    perms.max = "99999";
    perms.value = "999";
    const submit = button(t("runAnalysis"));
    submit.type = "submit";
    const status = jobStatusBox("job-status");
    form.append(
      el("h3", "", t("runTitle")),
      field("run-kind", t("analysisKind"), kind),
      field("run-since", t("since"), since),
      field("run-until", t("until"), until),
      field("run-cell", t("cellSize"), cell),
      field("run-permutations", t("permutations"), perms),
      submit,
      status,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const params: Record<string, unknown> = {
        since: `${since.value}T00:00:00`,
        until: `${until.value}T00:00:00`,
        cell_size_m: Number(cell.value),
      };
      if (kind.value === "analysis.hotspots") params.permutations = Number(perms.value);
      if (kind.value === "analysis.emerging") {
        delete params.since; // the cube counts whole weeks back from until
      }
      void this.submit(kind.value, params);
    });
    return form;
  }

  private async submit(kind: string, params: Record<string, unknown>): Promise<void> {
    try {
      const run = await postJson<{ id: number; status_url: string }>("/api/v1/analysis/runs", {
        kind,
        params,
      });
      this.jobs.follow(await getJson<Job>(run.status_url));
    } catch (exc) {
      this.jobs.clear();
      const status = this.root.querySelector("#job-status") as HTMLElement;
      showJobError(status, exc instanceof ApiError ? exc.detail : String(exc));
    }
  }

  private renderJob(): void {
    const status = this.root.querySelector("#job-status") as HTMLElement | null;
    const j = this.jobs.job;
    if (!status || !j) return;
    showJob(status, j, j.error ?? j.message ?? "");
    const summary = (j.result?.summary ?? j.result) as Summary | null;
    if (j.status === "succeeded" && summary) status.append(this.summaryList(summary));
  }

  private summaryList(summary: Summary): HTMLElement {
    const list = el("dl", "facts");
    if (summary.n_events !== undefined) {
      list.append(el("dt", "", t("events")), el("dd", "", formatNumber(summary.n_events)));
    }
    for (const [name, n] of Object.entries(summary.classes ?? {})) {
      list.append(el("dt", "", name), el("dd", "", formatNumber(n)));
    }
    return list;
  }

  // ---- two periods side by side ----

  private compare(): HTMLElement {
    const box = el("section", "panel-box compare");
    box.append(el("h3", "", t("comparePeriods")));
    const periods: Array<[string, string]> = [
      [daysAgo(55), daysAgo(28)],
      [daysAgo(27), daysAgo(-1)],
    ];
    const row = el("div", "compare-row");
    const sides = periods.map(([from, to], i) => {
      const side = el("div", "compare-side");
      side.dataset.side = String(i);
      const since = document.createElement("input");
      since.type = "date";
      since.value = from;
      const until = document.createElement("input");
      until.type = "date";
      until.value = to;
      const mapBox = el("div", "compare-map");
      mapBox.setAttribute("role", "img");
      mapBox.setAttribute("aria-label", t("periodMap", { n: i + 1 }));
      const note = el("p", "meta compare-note");
      note.setAttribute("aria-live", "polite");
      side.append(
        el("h4", "", t("period", { n: i + 1 })),
        field(`cmp-since-${i}`, t("since"), since),
        field(`cmp-until-${i}`, t("until"), until),
        mapBox,
        note,
      );
      row.append(side);
      return { since, until, mapBox, note };
    });
    const go = button(t("compare"));
    go.id = "compare";
    const legend = el("ul", "legend-inline");
    legend.setAttribute("aria-label", t("legendHotspots"));
    for (const [cls, colour] of HOTSPOT_COLOURS) {
      const swatch = el("span", "swatch");
      swatch.style.background = colour;
      const item = el("li");
      item.append(swatch, document.createTextNode(t(HOTSPOT_LABELS[cls])));
      legend.append(item);
    }
    box.append(row, legend, go);
    // Maps need their boxes in the document to size themselves.
    window.setTimeout(() => {
      this.maps = sides.map((s) => smallMap(s.mapBox, this.districts ?? Promise.resolve(EMPTY)));
    }, 0);
    go.addEventListener("click", () => {
      sides.forEach((s, i) => void this.loadPeriod(i, s.since.value, s.until.value, s.note));
    });
    return box;
  }

  private async loadPeriod(i: number, since: string, until: string, note: HTMLElement): Promise<void> {
    note.textContent = t("loading");
    try {
      const doc = await getJson<FeatureCollection & { summary?: Summary }>("/api/v1/analysis/hotspots", {
        since: `${since}T00:00:00`,
        until: `${until}T00:00:00`,
        cell_size_m: 500,
        significant_only: true,
      });
      const map = this.maps[i];
      const put = (): void => {
        (map.getSource("hotspots") as GeoJSONSource).setData(doc);
      };
      if (map.getSource("hotspots")) put();
      else map.once("load", () => window.setTimeout(put, 0));
      const hot = doc.features.filter((f) => Number(f.properties?.class) > 0).length;
      const cold = doc.features.filter((f) => Number(f.properties?.class) < 0).length;
      note.textContent = t("periodSummary", {
        from: formatDate(since),
        to: formatDate(until),
        n: doc.summary?.n_events ?? 0,
        hot,
        cold,
      });
      note.dataset.hot = String(hot);
    } catch (exc) {
      note.textContent = t("loadFailed", { detail: exc instanceof ApiError ? exc.detail : String(exc) });
    }
  }

  // ---- play-through of the last weeks ----

  /** Week `index` (0 = oldest): its first day, the day after it, and its last day. */
  private weekRange(index: number): [string, string, string] {
    const back = (WEEKS - 1 - index) * 7;
    return [daysAgo(back + 6), daysAgo(back - 1), daysAgo(back)];
  }

  private playThrough(): HTMLElement {
    const box = el("section", "panel-box play");
    box.append(el("h3", "", t("spaceTime")));
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = String(WEEKS - 1);
    slider.value = String(this.week);
    const label = el("output", "week-label");
    label.id = "week-label";
    const play = button(t("play"));
    play.id = "play";
    const mapBox = el("div", "compare-map play-map");
    mapBox.setAttribute("role", "img");
    mapBox.setAttribute("aria-label", t("spaceTime"));
    const controls = el("div", "play-controls");
    controls.append(play, field("week-slider", t("week"), slider), label);
    box.append(controls, mapBox);
    const show = (): void => {
      const [from, next, last] = this.weekRange(this.week);
      slider.value = String(this.week);
      label.textContent = `${formatDate(from)} – ${formatDate(last)}`;
      box.dataset.week = String(this.week);
      const map = this.playMap;
      if (!map) return;
      const url = `${location.origin}${withQuery("/api/v1/analysis/heat/tiles/{z}/{x}/{y}.png", {
        since: `${from}T00:00:00`,
        until: `${next}T00:00:00`,
      })}`
        .replace("%7Bz%7D", "{z}")
        .replace("%7Bx%7D", "{x}")
        .replace("%7By%7D", "{y}");
      const apply = (): void => {
        const source = map.getSource("heat") as RasterTileSource | undefined;
        if (source) source.setTiles([url]);
        else {
          map.addSource("heat", { type: "raster", tiles: [url], tileSize: 256 });
          map.addLayer({ id: "heat", type: "raster", source: "heat", paint: { "raster-opacity": 0.8 } }, "hotspots");
        }
      };
      if (map.loaded()) apply();
      else map.once("load", () => window.setTimeout(apply, 0));
    };
    slider.addEventListener("input", () => {
      this.week = Number(slider.value);
      show();
    });
    play.addEventListener("click", () => {
      if (this.player !== undefined) {
        this.close();
        return;
      }
      play.textContent = t("pause");
      if (this.week >= WEEKS - 1) this.week = 0;
      show();
      this.player = window.setInterval(() => {
        if (this.week >= WEEKS - 1) {
          this.close();
          return;
        }
        this.week += 1;
        show();
      }, PLAY_MS);
    });
    window.setTimeout(() => {
      this.playMap = smallMap(mapBox, this.districts ?? Promise.resolve(EMPTY));
      show();
    }, 0);
    return box;
  }
}
