import { getJson, type FeatureCollection, type Query } from "./api";
import {
  CAMERA_STATUSES,
  NETWORKS,
  networkName,
  ownersById,
  pickRow,
  problem,
  select,
  table,
  type Camera,
  type CameraHealth,
  type Outage,
  type Owner,
  type Unit,
} from "./cameras_api";
import { button, el, field } from "./dom";
import { duration, formatDate, formatDateTime, formatNumber, lang, t, type Key } from "./i18n";
import type { CamerasContext } from "./cameras";
import { unitName } from "./names";

const PAGE = 25;

interface Filters {
  owner_id: string;
  network: string;
  status: string;
  district: string;
  subdistrict: string;
  q: string;
}

const NO_FILTERS: Filters = { owner_id: "", network: "", status: "", district: "", subdistrict: "", q: "" };

function unitLabel(u: Unit): string {
  return `${u.code} ${lang() === "zh" ? u.name_zh : u.name_en}`;
}

/** The registry: filters, a page of cameras at a time (keyset), one camera's details. */
export class RegistryTab {
  readonly root = el("div", "cam-registry");
  private filters: Filters = { ...NO_FILTERS };
  private districts: Unit[] = [];
  private subdistricts: Unit[] = [];
  /** The after_id of each page shown so far: [undefined, id, id, ...]. */
  private pages: Array<number | undefined> = [undefined];
  private rows: Camera[] = [];
  private more = false;
  private error = "";
  private picked: Camera | null = null;
  private pickedHealth: CameraHealth | null = null;
  private pickedOutages: Outage[] = [];
  private sector: GeoJSON.Feature | null = null;
  private loaded = false;
  private owners = new Map<number, Owner>();

  constructor(private readonly ctx: CamerasContext) {}

  async open(): Promise<void> {
    if (!this.loaded) {
      this.loaded = true;
      this.owners = await ownersById();
      this.districts = await getJson<{ items: Unit[] }>("/api/v1/org/units", {
        level: "district",
        limit: 1000,
      })
        .then((p) => p.items)
        .catch(() => []);
      await this.load();
    }
    this.render();
  }

  private query(): Query {
    const f = this.filters;
    return {
      owner_id: f.owner_id || undefined,
      network: f.network || undefined,
      status: f.status || undefined,
      org_unit_id: f.subdistrict || f.district || undefined,
      q: f.q.trim() || undefined,
      limit: PAGE + 1,
      after_id: this.pages[this.pages.length - 1],
    };
  }

  private async load(): Promise<void> {
    try {
      const found = await getJson<Camera[]>("/api/v1/cameras", this.query());
      this.more = found.length > PAGE;
      this.rows = found.slice(0, PAGE);
      this.error = "";
    } catch (exc) {
      this.rows = [];
      this.more = false;
      this.error = problem(exc);
    }
  }

  render(): void {
    this.root.innerHTML = "";
    this.root.append(this.filterForm(), this.detailBox(), this.tableBox());
  }

  private filterForm(): HTMLFormElement {
    const form = el("form", "filters cam-filters") as HTMLFormElement;
    form.setAttribute("role", "search");
    const any = t("camAny");
    const f = this.filters;
    // Each list starts with "all": the empty value leaves that filter out.
    const options = (pairs: Array<[string, string]>): Array<[string, string]> => [["", any], ...pairs];
    const units = (list: Unit[]): Array<[string, string]> => list.map((u) => [String(u.id), unitLabel(u)]);
    const owners = [...this.owners.values()].map((o): [string, string] => [String(o.id), o.name]);
    const nets = NETWORKS.map((n): [string, string] => [n, networkName(n)]);
    const states = CAMERA_STATUSES.map((s): [string, string] => [s, t(`camst_${s}` as Key)]);
    const owner = select("cam-f-owner", "camOwner", options(owners), f.owner_id);
    const network = select("cam-f-network", "camNetwork", options(nets), f.network);
    const status = select("cam-f-status", "camStatus", options(states), f.status);
    const district = select("cam-f-district", "camDistrict", options(units(this.districts)), f.district);
    const sub = select("cam-f-subdistrict", "camSubdistrict", options(units(this.subdistricts)), f.subdistrict);
    sub.control.disabled = this.filters.district === "";
    const text = document.createElement("input");
    text.type = "search";
    text.maxLength = 100;
    text.value = this.filters.q;
    const apply = button(t("apply"));
    apply.type = "submit";
    const textField = field("cam-f-text", t("camText"), text);
    form.append(owner.wrap, network.wrap, status.wrap, district.wrap, sub.wrap, textField, apply);
    district.control.addEventListener("change", async () => {
      this.subdistricts = district.control.value
        ? await getJson<{ items: Unit[] }>("/api/v1/org/units", {
            level: "subdistrict",
            parent_id: district.control.value,
            limit: 1000,
          })
            .then((p) => p.items)
            .catch(() => [])
        : [];
      sub.control.innerHTML = "";
      sub.control.add(new Option(any, ""));
      for (const u of this.subdistricts) sub.control.add(new Option(unitLabel(u), String(u.id)));
      sub.control.disabled = district.control.value === "";
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.filters = {
        owner_id: owner.control.value,
        network: network.control.value,
        status: status.control.value,
        district: district.control.value,
        subdistrict: sub.control.value,
        q: text.value,
      };
      this.pages = [undefined];
      void this.load().then(() => this.render());
    });
    return form;
  }

  private tableBox(): HTMLElement {
    const box = el("div", "table-wrap");
    if (this.error) {
      box.append(el("p", "error", this.error));
      return box;
    }
    const { table: tbl, body } = table(
      "camRegistryTable",
      ["camColId", "camColOwnerId", "camColName", "camOwner", "camNetwork", "camStatus"],
      "cam-registry-table",
    );
    for (const cam of this.rows) {
      const row = pickRow(
        body,
        t("camOpen", { id: String(cam.id) }),
        [
          String(cam.id),
          cam.owner_camera_id,
          cam.name ?? "—",
          this.owners.get(cam.owner_id)?.name ?? `#${cam.owner_id}`,
          networkName(cam.network),
          t(`camst_${cam.status}` as Key),
        ],
        () => void this.openCamera(cam),
      );
      row.dataset.camera = String(cam.id);
      row.cells[3].classList.add("wrap");
      if (this.picked?.id === cam.id) row.classList.add("selected");
    }
    if (this.rows.length === 0) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 6;
      cell.textContent = t("camNone");
    }
    const pager = el("div", "pager");
    const first = (this.pages.length - 1) * PAGE;
    const prev = button(t("camPrev"), "secondary");
    prev.disabled = this.pages.length <= 1;
    const next = button(t("camNext"), "secondary");
    next.disabled = !this.more;
    const where = el("span", "meta");
    where.id = "cam-rows";
    where.setAttribute("aria-live", "polite");
    where.textContent = this.rows.length
      ? t("camRows", { from: String(first + 1), to: String(first + this.rows.length) })
      : "";
    prev.addEventListener("click", () => {
      this.pages.pop();
      void this.load().then(() => this.render());
    });
    next.addEventListener("click", () => {
      this.pages.push(this.rows[this.rows.length - 1].id);
      void this.load().then(() => this.render());
    });
    pager.append(prev, where, next);
    box.append(tbl, pager);
    return box;
  }

  /** Show a camera's details here and fly the map to it. */
  async openCamera(cam: Camera | number): Promise<void> {
    try {
      this.picked = typeof cam === "number" ? await getJson<Camera>(`/api/v1/cameras/${cam}`) : cam;
    } catch (exc) {
      this.error = problem(exc);
      this.render();
      return;
    }
    const id = this.picked.id;
    this.ctx.flyTo(this.picked.lon, this.picked.lat, { id, kind: "camera" });
    const [health, outages, sector] = await Promise.all([
      // The health list is keyset by camera id: the one after id - 1 is this one, if known.
      getJson<CameraHealth[]>("/api/v1/cameras/health/cameras", { after_id: id - 1, limit: 1 })
        .then((rows) => rows.find((h) => h.camera_id === id) ?? null)
        .catch(() => null),
      getJson<Outage[]>("/api/v1/cameras/health/outages", { camera_id: id, limit: 5 }).catch(() => []),
      this.sectorOf(this.picked),
    ]);
    if (this.picked?.id !== id) return;
    this.sector = sector;
    if (sector) this.ctx.flyTo(this.picked.lon, this.picked.lat, { id, kind: "camera" }, [sector]);
    this.pickedHealth = health;
    this.pickedOutages = outages;
    this.render();
    const heading = this.root.querySelector<HTMLElement>("#cam-detail h3");
    heading?.focus({ preventScroll: true });
    heading?.scrollIntoView({ block: "nearest" });
  }

  /** The camera's field of view as drawn by the API (a sector, or a disc for PTZ). */
  private async sectorOf(cam: Camera): Promise<GeoJSON.Feature | null> {
    // A box just around the camera: the layer answers by bounding box.
    const d = 0.0005;
    const bbox = [cam.lon - d, cam.lat - d, cam.lon + d, cam.lat + d].map((v) => v.toFixed(6)).join(",");
    try {
      const doc = await getJson<FeatureCollection>("/api/v1/cameras/layer", { bbox, sectors: true, limit: 500 });
      const found = doc.features.find((f) => f.id === cam.id);
      return found ? { ...found, properties: { ...found.properties, kind: "sector" } } : null;
    } catch {
      return null;
    }
  }

  private detailBox(): HTMLElement {
    const box = el("section", "cam-detail panel-box");
    box.id = "cam-detail";
    box.setAttribute("aria-live", "polite");
    const cam = this.picked;
    if (!cam) {
      box.hidden = true;
      return box;
    }
    box.dataset.camera = String(cam.id);
    const heading = el("h3", "", `${t("camera")} #${cam.id}${cam.name ? ` · ${cam.name}` : ""}`);
    heading.tabIndex = -1;
    const facts = el("dl", "facts");
    const add = (label: Key, value: string): void => {
      facts.append(el("dt", "", t(label)), el("dd", "", value));
    };
    const owner = this.owners.get(cam.owner_id)?.name ?? `#${cam.owner_id}`;
    add("camOwner", owner);
    add("camColOwnerId", cam.owner_camera_id);
    add("camNetwork", networkName(cam.network));
    add("camStatus", t(`camst_${cam.status}` as Key));
    const grid = el("dd", "", cam.org_unit_id === null ? "—" : `#${cam.org_unit_id}`);
    if (cam.org_unit_id !== null) void unitName(cam.org_unit_id).then((n) => (grid.textContent = n));
    facts.append(el("dt", "", t("camColGrid")), grid);
    const half = formatNumber(cam.fov_deg / 2);
    const aim = cam.ptz || cam.fov_deg >= 360 ? "360°" : `${formatNumber(cam.heading_deg)}° ± ${half}°`;
    add("camColFov", aim);
    add("camColRange", `${formatNumber(cam.range_m)} m`);
    if (cam.height_m !== null) add("camColHeight", `${formatNumber(cam.height_m)} m`);
    if (cam.resolution) add("camColResolution", cam.resolution);
    if (cam.installed_on) add("camColInstalled", formatDate(cam.installed_on));
    add("camColAccess", t(`access_${cam.access_level}` as Key));
    if (cam.sharing_contact) add("camColContact", cam.sharing_contact);
    const state = this.pickedHealth?.state ?? "unknown";
    const stateLine = el("p", `cam-state cam-state-${state}`, t("camHealthNow", { state: t(`health_${state}` as Key) }));
    stateLine.dataset.state = state;
    if (this.pickedHealth?.last_seen_at) {
      const seen = formatDateTime(this.pickedHealth.last_seen_at);
      stateLine.append(el("span", "meta", ` · ${t("camColLastSeen")}: ${seen}`));
    }
    const show = button(t("camFlyTo"), "secondary");
    show.addEventListener("click", () =>
      this.ctx.flyTo(cam.lon, cam.lat, { id: cam.id, kind: "camera" }, this.sector ? [this.sector] : []),
    );
    box.append(heading, facts, stateLine, el("h4", "", t("camOutagesOf")));
    if (this.pickedOutages.length === 0) box.append(el("p", "meta", t("camNoOutages")));
    else {
      const list = el("ul", "cam-outages");
      for (const o of this.pickedOutages) {
        const length = o.duration_minutes === null ? t("camOngoing") : duration(o.duration_minutes * 60);
        list.append(el("li", "", `${formatDateTime(o.started_at)} · ${length}`));
      }
      box.append(list);
    }
    box.append(show);
    return box;
  }
}
