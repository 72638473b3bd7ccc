import type { FeatureCollection } from "./api";
import { BlindSpotsTab, CoverageTab } from "./cameras_coverage";
import { HealthTab } from "./cameras_health";
import { PlanTab } from "./cameras_plans";
import { RegistryTab } from "./cameras_registry";
import { el } from "./dom";
import { t, type Key } from "./i18n";
import type { CityMap, LayerKey } from "./map/citymap";

/** What the tabs of the Cameras screen may ask of it. */
export interface CamerasContext {
  readonly cityMap: CityMap;
  can(permission: string): boolean;
  /** Turn a layer on through the layer panel (so its box shows it is on). */
  showLayer(key: LayerKey): void;
  /** Fly the map to a point and mark it (with more to draw, e.g. a camera's field of view). */
  flyTo(lon: number, lat: number, properties: Record<string, unknown>, extra?: GeoJSON.Feature[]): void;
  /** Fit the map to features and mark them. */
  focus(doc: FeatureCollection, maxZoom: number): void;
  /** The map's view as lon0,lat0,lon1,lat1. */
  viewBox(): string;
  /** Open a camera in the registry tab. */
  openCamera(id: number): Promise<void>;
}

type TabName = "registry" | "coverage" | "blind" | "plan" | "health";

interface Tab {
  readonly root: HTMLElement;
  open(): Promise<void>;
  render(): void;
  close?(): void;
}

const TAB_LABELS: Record<TabName, Key> = {
  registry: "camTabRegistry",
  coverage: "camTabCoverage",
  blind: "camTabBlind",
  plan: "camTabPlan",
  health: "camTabHealth",
};
const FOCUS_ZOOM = 17;

/**
 * The Cameras screen, beside the map: the registry with filters and paging,
 * coverage by area, ranked blind spots, placement plans, health.
 */
export class CamerasView {
  private readonly tabs = new Map<TabName, Tab>();
  private current: TabName = "registry";
  private readonly registry: RegistryTab;
  private readonly plan: PlanTab;
  private readonly ctx: CamerasContext;

  constructor(
    private readonly root: HTMLElement,
    cityMap: CityMap,
    can: (permission: string) => boolean,
    showLayer: (key: LayerKey) => void,
  ) {
    root.classList.add("inbox", "cameras");
    this.ctx = {
      cityMap,
      can,
      showLayer,
      flyTo: (lon, lat, properties, extra = []) => {
        void cityMap.setOverlay("camera-focus", {
          type: "FeatureCollection",
          features: [
            ...extra,
            { type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties },
          ],
        });
        cityMap.map.flyTo({ center: [lon, lat], zoom: Math.max(cityMap.map.getZoom(), FOCUS_ZOOM), duration: 600 });
      },
      focus: (doc, maxZoom) => {
        void cityMap.setOverlay("camera-focus", doc);
        void cityMap.fitTo(doc, maxZoom);
      },
      viewBox: () => {
        const b = cityMap.map.getBounds();
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
      },
      openCamera: async (id) => {
        this.choose("registry");
        await this.registry.openCamera(id);
      },
    };
    this.registry = new RegistryTab(this.ctx);
    this.plan = new PlanTab(this.ctx);
    this.tabs.set("registry", this.registry);
    this.tabs.set("coverage", new CoverageTab(this.ctx));
    this.tabs.set("blind", new BlindSpotsTab(this.ctx));
    if (can("cameras:read")) this.tabs.set("plan", this.plan);
    if (can("cameras:health:read")) this.tabs.set("health", new HealthTab(this.ctx));
  }

  open(): void {
    this.ctx.showLayer("cameras");
    this.render();
  }

  close(): void {
    for (const tab of this.tabs.values()) tab.close?.();
    void this.ctx.cityMap.setOverlay("camera-focus", { type: "FeatureCollection", features: [] });
  }

  render(): void {
    this.root.innerHTML = "";
    const heading = el("h2", "", t("camerasTitle"));
    const bar = el("div", "tabs");
    bar.setAttribute("role", "tablist");
    bar.setAttribute("aria-label", t("camTabs"));
    for (const name of this.tabs.keys()) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tab";
      b.id = `cam-tab-${name}`;
      b.setAttribute("role", "tab");
      b.setAttribute("aria-controls", "cam-tabpanel");
      b.setAttribute("aria-selected", String(name === this.current));
      b.tabIndex = name === this.current ? 0 : -1;
      b.textContent = t(TAB_LABELS[name]);
      b.addEventListener("click", () => this.choose(name));
      b.addEventListener("keydown", (event) => this.arrowKeys(event, name));
      bar.append(b);
    }
    const panel = el("div", "cam-tabpanel");
    panel.id = "cam-tabpanel";
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", `cam-tab-${this.current}`);
    panel.dataset.tab = this.current;
    const tab = this.tabs.get(this.current) as Tab;
    panel.append(tab.root);
    this.root.append(heading, bar, panel);
    void tab.open();
  }

  /** Left and right arrows move between tabs (the WAI-ARIA tabs pattern). */
  private arrowKeys(event: KeyboardEvent, from: TabName): void {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const names = [...this.tabs.keys()];
    const step = event.key === "ArrowRight" ? 1 : -1;
    const next = names[(names.indexOf(from) + step + names.length) % names.length];
    this.choose(next);
    (this.root.querySelector(`#cam-tab-${next}`) as HTMLElement | null)?.focus();
    event.preventDefault();
  }

  private choose(name: TabName): void {
    if (name === this.current && this.root.querySelector(`#cam-tab-${name}`)) return;
    this.tabs.get(this.current)?.close?.();
    this.current = name;
    this.render();
  }

  /** A click on a camera layer while this screen is open. */
  onMapDetail(kind: string, properties: Record<string, unknown>): boolean {
    const id = Number(properties.id);
    if (kind === "camera" && Number.isFinite(id)) {
      void this.ctx.openCamera(id);
      return true;
    }
    // A cluster: the map zooms into it; the screen stays.
    if (kind === "camCluster") return true;
    const order = Number(properties.order);
    if (kind === "plannedSite" && Number.isFinite(order) && this.tabs.has("plan")) {
      this.choose("plan");
      this.plan.pickSite(order);
      return true;
    }
    return false;
  }
}
