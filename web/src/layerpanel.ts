import { getJson } from "./api";
import { applyTranslations, emergingName, formatNumber, t, type Key } from "./i18n";
import {
  BLIND_COLOUR,
  CAMERA_TILES,
  COVERED_COLOUR,
  NETWORK_COLOURS,
  PLAN_COLOUR,
  RANKED_BLIND_COLOUR,
} from "./map/cameralayers";
import type { CityMap, LayerKey } from "./map/citymap";
import { EMERGING_CATEGORIES, HOTSPOT_COLOURS, HOTSPOT_LABELS, ORG_LEVELS } from "./map/style";
import { PRESETS, windowOf, type Preset, type TimeWindow } from "./timewindow";

interface LayerDef {
  key: LayerKey;
  label: Key;
  on: boolean;
}

const LAYERS: LayerDef[] = [
  ...ORG_LEVELS.map((level) => ({
    key: `org-${level}` as LayerKey,
    label: level as Key,
    on: level === "district",
  })),
  { key: "roads", label: "roads", on: true },
  { key: "sites", label: "sites", on: false },
  { key: "incidents", label: "incidents", on: false },
  { key: "heat", label: "heat", on: false },
  { key: "hotspots", label: "hotspots", on: false },
  { key: "emerging", label: "emerging", on: false },
  { key: "cameras", label: "camerasLayer", on: false },
  { key: "coverage", label: "coverageLayer", on: false },
  { key: "blind-spots", label: "blindSpotsLayer", on: false },
  { key: "planned-sites", label: "plannedSitesLayer", on: false },
];
const CAMERA_LEGEND_KEYS = new Set<LayerKey>(["cameras", "coverage", "blind-spots", "planned-sites"]);


interface HeatLegend {
  vmax: number;
  units: string;
  stops: Array<{ value: number; colour: string }>;
}

/** The left panel: layer toggles, the time window, legends. */
export class LayerPanel {
  private heatLegend: HeatLegend | null = null;
  private incidentCount: { n: number; capped: boolean } | null = null;
  private emergingCategories: Record<string, number> = {};

  constructor(
    private readonly root: HTMLElement,
    private readonly cityMap: CityMap,
    private window: TimeWindow,
    private readonly onWindow: (window: TimeWindow) => void,
  ) {
    this.build();
    for (const layer of LAYERS) if (layer.on) void this.cityMap.setEnabled(layer.key, true);
  }

  private build(): void {
    const toggles = LAYERS.map(
      (l) => `<li><label><input type="checkbox" data-layer="${l.key}" ${l.on ? "checked" : ""} />
        <span data-i18n="${l.label}"></span></label>
        <span class="layer-state" data-state-for="${l.key}" aria-live="polite"></span></li>`,
    ).join("");
    const presets = PRESETS.map(
      (days) => `<label><input type="radio" name="window" value="${days}"
        ${days === this.window.days ? "checked" : ""} /><span data-i18n="last${days}"></span></label>`,
    ).join("");
    this.root.innerHTML = `
      <h2 data-i18n="layers"></h2>
      <ul class="layer-list">${toggles}</ul>
      <fieldset class="time-window"><legend data-i18n="timeWindow"></legend>${presets}</fieldset>
      <p class="incident-count" id="incident-count" aria-live="polite"></p>
      <section class="legend" id="legend-heat" hidden></section>
      <section class="legend" id="legend-hotspots" hidden></section>
      <section class="legend" id="legend-emerging" hidden></section>
      <section class="legend" id="legend-cameras" hidden></section>`;
    applyTranslations(this.root);
    for (const box of this.root.querySelectorAll<HTMLInputElement>("input[data-layer]")) {
      box.addEventListener("change", () => {
        const key = box.dataset.layer as LayerKey;
        void this.cityMap.setEnabled(key, box.checked);
        if (key === "heat" || key === "hotspots" || key === "emerging") this.renderLegends();
        if (CAMERA_LEGEND_KEYS.has(key)) this.renderLegends();
        if (key === "incidents" && !box.checked) this.clearIncidentCount();
      });
    }
    for (const radio of this.root.querySelectorAll<HTMLInputElement>("input[name=window]")) {
      radio.addEventListener("change", () => {
        this.window = windowOf(Number(radio.value) as Preset);
        this.heatLegend = null;
        this.onWindow(this.window);
        this.renderLegends();
      });
    }
  }

  private isOn(key: LayerKey): boolean {
    const box = this.root.querySelector<HTMLInputElement>(`input[data-layer="${key}"]`);
    return box?.checked ?? false;
  }

  setState(key: LayerKey, state: string, note?: string): void {
    const el = this.root.querySelector<HTMLElement>(`[data-state-for="${key}"]`);
    if (!el) return;
    el.dataset.state = state;
    el.textContent = state === "loading" ? "…" : state === "error" ? "⚠" : "";
    el.title = state === "error" ? t("loadFailed", { detail: note ?? "" }) : "";
  }

  setIncidentCount(count: number, capped: boolean): void {
    this.incidentCount = { n: count, capped };
    this.renderIncidentCount();
  }

  private clearIncidentCount(): void {
    this.incidentCount = null;
    this.renderIncidentCount();
  }

  private renderIncidentCount(): void {
    const c = this.incidentCount;
    const text = c ? t("incidentsShown", { n: c.n }) + (c.capped ? t("incidentsCapped") : "") : "";
    this.setIncidentText(text);
  }

  private setIncidentText(text: string): void {
    (this.root.querySelector("#incident-count") as HTMLElement).textContent = text;
  }

  setEmergingCategories(categories: Record<string, number>): void {
    this.emergingCategories = categories;
    this.renderLegends();
  }

  /** Re-render what carries translated text built in script. */
  refresh(): void {
    this.renderLegends();
    if (this.isOn("incidents")) this.renderIncidentCount();
  }

  renderLegends(): void {
    const heat = this.root.querySelector("#legend-heat") as HTMLElement;
    const hot = this.root.querySelector("#legend-hotspots") as HTMLElement;
    heat.hidden = !this.isOn("heat");
    hot.hidden = !this.isOn("hotspots");
    if (!hot.hidden) {
      hot.innerHTML = `<h3>${t("legendHotspots")}</h3><ul>${HOTSPOT_COLOURS.map(
        ([cls, colour]) =>
          `<li><span class="swatch" data-swatch="${colour}"></span>${t(HOTSPOT_LABELS[cls])}</li>`,
      ).join("")}</ul>`;
      paintSwatches(hot);
    }
    if (!heat.hidden) void this.renderHeatLegend(heat);
    const emerging = this.root.querySelector("#legend-emerging") as HTMLElement;
    emerging.hidden = !this.isOn("emerging");
    if (!emerging.hidden) this.renderEmergingLegend(emerging);
    this.renderCameraLegend(this.root.querySelector("#legend-cameras") as HTMLElement);
  }

  /** Networks' colours, covered and blind street, planned sites: for the camera layers on. */
  private renderCameraLegend(el: HTMLElement): void {
    const items: Array<[string, string]> = [];
    if (this.isOn("cameras")) {
      for (const [net, colour] of Object.entries(NETWORK_COLOURS)) {
        items.push([colour, t(`net_${net}` as Key)]);
      }
    }
    if (this.isOn("coverage")) items.push([COVERED_COLOUR, t("covered")]);
    if (this.isOn("coverage")) items.push([BLIND_COLOUR, t("blind")]);
    if (this.isOn("blind-spots")) items.push([RANKED_BLIND_COLOUR, t("blindSpotsLayer")]);
    if (this.isOn("planned-sites")) items.push([PLAN_COLOUR, t("plannedSite")]);
    el.hidden = items.length === 0;
    el.dataset.tiles = CAMERA_TILES;
    el.innerHTML = `<h3>${t("legendCoverage")}</h3><ul>${items
      .map(([colour, label]) => `<li><span class="swatch" data-swatch="${colour}"></span>${label}</li>`)
      .join("")}</ul>`;
    paintSwatches(el);
  }

  /** The categories present in the loaded layer, with their cell counts. */
  private renderEmergingLegend(el: HTMLElement): void {
    // In the fixed order of the categories: hot first, then cold.
    const names = EMERGING_CATEGORIES.map((c) => c.name).filter(
      (n) => this.emergingCategories[n] !== undefined,
    );
    const colourOf = (name: string): string =>
      EMERGING_CATEGORIES.find((c) => c.name === name)?.colour ?? "transparent";
    const items = names.map(
      (n) => `<li><span class="swatch" data-swatch="${colourOf(n)}"></span>
        ${emergingName(n)} (${formatNumber(this.emergingCategories[n])})</li>`,
    );
    el.innerHTML = `<h3>${t("legendEmerging")}</h3><ul>${items.join("")}</ul>`;
    paintSwatches(el);
  }

  private async renderHeatLegend(el: HTMLElement): Promise<void> {
    if (!this.heatLegend) {
      el.innerHTML = `<h3>${t("legendHeat")}</h3><p>${t("loading")}</p>`;
      try {
        this.heatLegend = await getJson<HeatLegend>("/api/v1/analysis/heat/legend", {
          since: this.window.since,
        });
      } catch (exc) {
        el.innerHTML = `<h3>${t("legendHeat")}</h3><p>${t("loadFailed", { detail: String(exc) })}</p>`;
        return;
      }
    }
    const legend = this.heatLegend;
    const gradient = legend.stops.map((s) => s.colour).join(", ");
    const last = legend.stops[legend.stops.length - 1]?.value ?? legend.vmax;
    el.innerHTML = `<h3>${t("legendHeat")}</h3>
      <div class="ramp" data-swatch="linear-gradient(to right, ${gradient})"></div>
      <div class="ramp-scale"><span>0</span><span>${formatNumber(last)} ${legend.units}</span></div>`;
    paintSwatches(el);
  }
}

/** Colours go on through `element.style`, not style attributes in markup (the CSP). */
function paintSwatches(root: HTMLElement): void {
  for (const swatch of root.querySelectorAll<HTMLElement>("[data-swatch]")) {
    swatch.style.background = swatch.dataset.swatch ?? "";
  }
}
