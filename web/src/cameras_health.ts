import { getJson } from "./api";
import {
  networkName,
  ownersById,
  pickRow,
  problem,
  select,
  shortDateTime,
  table,
  type CameraHealth,
  type Outage,
  type Owner,
} from "./cameras_api";
import type { CamerasContext } from "./cameras";
import { el } from "./dom";
import { duration, formatNumber, t, type Key } from "./i18n";
import { ORG_LEVELS } from "./map/style";

interface Availability {
  key: string;
  label: string;
  cameras: number;
  uptime_pct: number | null;
  outages: number;
  repaired: number;
  mttr_minutes: number | null;
}

const OFFLINE_LIMIT = 200;
const OUTAGE_LIMIT = 50;
const PERIODS = [1, 3, 7, 30] as const;
const GROUPS = ["network", "owner", "area"] as const;

/** Health: cameras offline now, outages with their notices, availability per group. */
export class HealthTab {
  readonly root = el("div", "cam-health");
  private offline: CameraHealth[] = [];
  private outages: Outage[] = [];
  private availability: Availability[] = [];
  private owners = new Map<number, Owner>();
  private openOnly = true;
  private days: number = 7;
  private group: string = "network";
  private level = "district";
  private error = "";
  private loaded = false;

  constructor(private readonly ctx: CamerasContext) {}

  async open(): Promise<void> {
    if (!this.loaded) {
      this.loaded = true;
      this.owners = await ownersById();
      await Promise.all([this.loadOffline(), this.loadOutages(), this.loadAvailability()]);
    }
    this.render();
  }

  private async loadOffline(): Promise<void> {
    try {
      this.offline = await getJson<CameraHealth[]>("/api/v1/cameras/health/cameras", {
        state: "offline",
        limit: OFFLINE_LIMIT,
      });
    } catch (exc) {
      this.error = problem(exc);
    }
  }

  private async loadOutages(): Promise<void> {
    try {
      this.outages = await getJson<Outage[]>("/api/v1/cameras/health/outages", {
        open: this.openOnly,
        limit: OUTAGE_LIMIT,
      });
    } catch (exc) {
      this.error = problem(exc);
    }
  }

  private async loadAvailability(): Promise<void> {
    try {
      this.availability = await getJson<Availability[]>("/api/v1/cameras/health/availability", {
        since: new Date(Date.now() - this.days * 86_400_000).toISOString(),
        group_by: this.group,
        level: this.group === "area" ? this.level : undefined,
      });
    } catch (exc) {
      this.error = problem(exc);
    }
  }

  render(): void {
    this.root.innerHTML = "";
    if (this.error) this.root.append(el("p", "error", this.error));
    this.root.append(this.offlineBox(), this.outageBox(), this.availabilityBox());
  }

  private ownerName(id: number): string {
    return this.owners.get(id)?.name ?? `#${id}`;
  }

  private offlineBox(): HTMLElement {
    const box = el("section", "cam-section");
    box.append(el("h3", "", t("camOfflineNow")));
    const count = el("p", "cam-offline-count");
    count.id = "cam-offline-count";
    const n = this.offline.length;
    count.dataset.count = String(n);
    const shown = n >= OFFLINE_LIMIT ? `${n}+` : String(n);
    count.textContent = n === 0 ? t("camNoneOffline") : t("camOfflineCount", { n: shown });
    box.append(count);
    if (n === 0) return box;
    const { table: tbl, body } = table(
      "camOfflineNow",
      ["camColId", "camNetwork", "camOwner", "camColSince", "camColLastSeen"],
      "cam-offline-table",
    );
    for (const h of this.offline) {
      const row = pickRow(
        body,
        t("camOpen", { id: String(h.camera_id) }),
        [
          String(h.camera_id),
          networkName(h.network),
          this.ownerName(h.owner_id),
          h.state_since ? shortDateTime(h.state_since) : "—",
          h.last_seen_at ? shortDateTime(h.last_seen_at) : "—",
        ],
        () => void this.ctx.openCamera(h.camera_id),
      );
      row.cells[2].classList.add("wrap");
      row.dataset.camera = String(h.camera_id);
    }
    const wrap = el("div", "table-wrap cam-scroll");
    wrap.append(tbl);
    box.append(wrap);
    return box;
  }

  private outageBox(): HTMLElement {
    const box = el("section", "cam-section");
    const head = el("div", "inbox-head");
    const only = document.createElement("input");
    only.type = "checkbox";
    only.id = "cam-outages-open";
    only.checked = this.openOnly;
    const label = document.createElement("label");
    label.className = "inline";
    label.append(only, document.createTextNode(t("camOpenOnly")));
    only.addEventListener("change", () => {
      this.openOnly = only.checked;
      void this.loadOutages().then(() => this.render());
    });
    head.append(el("h3", "", t("camOutages")), label);
    box.append(head);
    const { table: tbl, body } = table(
      "camOutages",
      ["camColId", "camColStarted", "camColEnded", "camColDuration", "camColNotices"],
      "cam-outage-table",
    );
    const now = Date.now();
    for (const o of this.outages) {
      const minutes = o.duration_minutes ?? (now - new Date(o.started_at).getTime()) / 60_000;
      const row = pickRow(
        body,
        t("camOpen", { id: String(o.camera_id) }),
        [
          String(o.camera_id),
          shortDateTime(o.started_at),
          o.ended_at ? shortDateTime(o.ended_at) : t("camOngoing"),
          duration(minutes * 60),
          o.notices.map((x) => t(`notice_${x.kind}` as Key)).join(" · "),
        ],
        () => void this.ctx.openCamera(o.camera_id),
      );
      row.dataset.outage = String(o.id);
      row.cells[4].classList.add("wrap");
      if (!o.ended_at) row.classList.add("flagged");
    }
    if (this.outages.length === 0) {
      const cell = body.insertRow().insertCell();
      cell.colSpan = 5;
      cell.textContent = t("camNoOutages");
    }
    const wrap = el("div", "table-wrap cam-scroll");
    wrap.append(tbl);
    box.append(wrap);
    return box;
  }

  private availabilityBox(): HTMLElement {
    const box = el("section", "cam-section");
    box.append(el("h3", "", t("camAvailability")));
    const form = el("div", "filters");
    const period = select(
      "cam-av-period",
      "camPeriod",
      PERIODS.map((d): [string, string] => [String(d), t("camLastDays", { n: String(d) })]),
      String(this.days),
    );
    const group = select(
      "cam-av-group",
      "camGroupBy",
      GROUPS.map((g): [string, string] => [g, t(`group_${g}` as Key)]),
      this.group,
    );
    const level = select(
      "cam-av-level",
      "camLevel",
      ORG_LEVELS.map((l): [string, string] => [l, t(l as Key)]),
      this.level,
    );
    level.wrap.hidden = this.group !== "area";
    const reload = (): void => {
      this.days = Number(period.control.value);
      this.group = group.control.value;
      this.level = level.control.value;
      void this.loadAvailability().then(() => this.render());
    };
    for (const s of [period, group, level]) s.control.addEventListener("change", reload);
    form.append(period.wrap, group.wrap, level.wrap);
    const { table: tbl, body } = table(
      "camAvailability",
      ["camColGroup", "camColCameras", "camColUptime", "camColOutages", "camColMttr"],
      "cam-availability-table",
    );
    for (const a of this.availability) {
      const row = body.insertRow();
      row.dataset.key = a.key;
      const label = row.insertCell();
      label.className = "wrap";
      label.textContent = this.group === "network" ? networkName(a.key) : a.label;
      row.insertCell().textContent = formatNumber(a.cameras);
      row.insertCell().textContent = a.uptime_pct === null ? "—" : `${formatNumber(a.uptime_pct)}%`;
      row.insertCell().textContent = `${formatNumber(a.outages)}`;
      row.insertCell().textContent = a.mttr_minutes === null ? "—" : duration(a.mttr_minutes * 60);
    }
    const wrap = el("div", "table-wrap");
    wrap.append(tbl);
    box.append(form, wrap);
    return box;
  }
}
