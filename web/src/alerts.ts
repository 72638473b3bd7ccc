import { ApiError, getJson, postJson, type FeatureCollection } from "./api";
import { button, el } from "./dom";
import { formatDate, formatNumber, methodName, stateName, t } from "./i18n";
import { unitName } from "./names";
import type { CityMap } from "./map/citymap";

export interface Alert {
  id: number;
  method: string;
  status: string;
  org_unit_id: number;
  area: Record<string, unknown>;
  geometry: GeoJSON.Geometry | null;
  incident_types: string[];
  window_start: string;
  window_end: string;
  statistic: number;
  p_value: number | null;
  observed: number;
  expected: number;
  signal_count: number;
  reason: string | null;
  updated_at: string;
}

type Tab = "new" | "acknowledged";
const OPEN = new Set(["new", "acknowledged"]);

/**
 * The alerts inbox: new and acknowledged alerts in the user's scope, kept
 * current by the server's event stream (no reload), each with its area on the map.
 */
export class AlertsInbox {
  private readonly alerts = new Map<number, Alert>();
  private tab: Tab = "new";
  private selected: number | null = null;
  private stream: EventSource | null = null;
  private loaded = false;
  private error = "";
  private readonly said = el("p");
  private readonly body = el("div");

  constructor(
    private readonly root: HTMLElement,
    private readonly cityMap: CityMap,
    private readonly onCount: (newCount: number) => void,
    /** Show the incidents inside an area on the map (alert -> its incidents -> dispatch). */
    private readonly onIncidents: (area: FeatureCollection) => void = () => undefined,
  ) {
    root.classList.add("inbox");
    // Said by screen readers when an alert arrives or changes; it outlives re-renders.
    this.said.className = "visually-hidden";
    this.said.setAttribute("role", "status");
    root.append(this.said, this.body);
  }

  /** Load the open alerts and follow the stream; called once, at start. */
  async start(): Promise<void> {
    this.listen();
    try {
      const [fresh, acked] = await Promise.all([
        getJson<Alert[]>("/api/v1/alerts", { status: "new", limit: 500 }),
        getJson<Alert[]>("/api/v1/alerts", { status: "acknowledged", limit: 500 }),
      ]);
      for (const a of [...fresh, ...acked]) this.upsert(a, false);
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.loaded = true;
    this.changed();
  }

  private listen(): void {
    // EventSource reconnects by itself with Last-Event-ID, so nothing is missed.
    this.stream = new EventSource("/api/v1/alerts/stream?max_seconds=600");
    this.stream.addEventListener("alert", (event) => {
      const alert = JSON.parse((event as MessageEvent<string>).data) as Alert;
      this.upsert(alert, true);
      this.changed();
    });
    this.stream.addEventListener("open", () => (this.root.dataset.live = "true"));
  }

  stop(): void {
    this.stream?.close();
  }

  private upsert(alert: Alert, live: boolean): void {
    const known = this.alerts.get(alert.id);
    // The stream may repeat what a POST already answered; keep the newest.
    if (known && known.updated_at > alert.updated_at) return;
    if (OPEN.has(alert.status)) this.alerts.set(alert.id, alert);
    else this.alerts.delete(alert.id);
    if (live) {
      this.root.dataset.lastLive = String(alert.id);
      this.said.textContent = t("alertChanged", { id: String(alert.id), status: stateName(alert.status) });
    }
  }

  private changed(): void {
    const count = [...this.alerts.values()].filter((a) => a.status === "new").length;
    this.onCount(count);
    void this.drawAreas();
    this.render();
  }

  private async drawAreas(): Promise<void> {
    const features: GeoJSON.Feature[] = [];
    for (const a of this.alerts.values()) {
      if (!a.geometry) continue;
      features.push({
        type: "Feature",
        id: a.id,
        geometry: a.geometry,
        properties: { alert_id: a.id, selected: a.id === this.selected },
      });
    }
    await this.cityMap.setOverlay("alert-areas", { type: "FeatureCollection", features });
  }

  /** Select an alert (from the list or a click on its area) and show it on the map. */
  select(id: number, fit = true): void {
    this.selected = id;
    const alert = this.alerts.get(id);
    if (alert && alert.status !== this.tab) this.tab = alert.status as Tab;
    void this.drawAreas();
    this.render();
    if (fit && alert?.geometry) {
      const doc: FeatureCollection = {
        type: "FeatureCollection",
        features: [{ type: "Feature", geometry: alert.geometry, properties: {} }],
      };
      void this.cityMap.fitTo(doc);
    }
    this.root.querySelector<HTMLElement>(`[data-alert="${id}"]`)?.focus();
  }

  show(): void {
    void this.drawAreas();
    this.render();
  }

  hide(): void {
    // The open alerts stay on the map as highlighted areas on every view.
  }

  render(): void {
    const counts = { new: 0, acknowledged: 0 };
    for (const a of this.alerts.values()) counts[a.status as Tab] += 1;
    this.body.innerHTML = "";
    const head = el("div", "inbox-head");
    const title = el("h2");
    title.tabIndex = -1;
    title.textContent = t("alertsTitle");
    const live = el("span", "live-dot");
    live.textContent = t("live");
    live.title = t("liveHint");
    head.append(title, live);
    const tabs = el("div", "tabs");
    tabs.setAttribute("role", "tablist");
    for (const tab of ["new", "acknowledged"] as const) {
      const b = el("button", "tab") as HTMLButtonElement;
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(tab === this.tab));
      b.dataset.tab = tab;
      b.textContent = `${t(tab === "new" ? "alertsNew" : "alertsAcknowledged")} (${counts[tab]})`;
      b.addEventListener("click", () => {
        this.tab = tab;
        this.show();
      });
      tabs.append(b);
    }
    this.body.append(head, tabs);
    if (this.error) {
      const p = el("p", "error");
      p.textContent = t("loadFailed", { detail: this.error });
      this.body.append(p);
    }
    const list = el("ul", "cards");
    list.setAttribute("aria-label", t("alertsTitle"));
    const shown = [...this.alerts.values()]
      .filter((a) => a.status === this.tab)
      .sort((a, b) => b.window_end.localeCompare(a.window_end) || b.id - a.id);
    for (const a of shown) list.append(this.card(a));
    if (shown.length === 0) {
      const empty = el("li", "hint");
      empty.textContent = this.loaded ? t("noAlerts") : t("loading");
      list.append(empty);
    }
    this.body.append(list);
  }

  private card(a: Alert): HTMLElement {
    const li = el("li", "card");
    li.dataset.alert = String(a.id);
    li.dataset.status = a.status;
    li.tabIndex = -1;
    if (a.id === this.selected) li.classList.add("selected");
    const h = el("h3");
    h.textContent = `#${a.id} · ${methodName(a.method)}`;
    const meta = el("p", "meta");
    const ratio = a.expected > 0 ? ` (×${formatNumber(a.observed / a.expected)})` : "";
    meta.textContent = [
      `${formatDate(a.window_start)} – ${formatDate(a.window_end)}`,
      t("observedExpected", { o: a.observed, e: formatNumber(a.expected) }) + ratio,
      a.p_value === null ? "" : `p = ${formatNumber(a.p_value)}`,
    ]
      .filter(Boolean)
      .join(" · ");
    const where = el("p", "meta");
    where.textContent = t("areaIs", { name: "…" });
    void unitName(a.org_unit_id).then((name) => (where.textContent = t("areaIs", { name })));
    li.append(h, meta, where);
    if (a.reason) {
      const r = el("p", "meta");
      r.textContent = t("reasonIs", { reason: a.reason });
      li.append(r);
    }
    const actions = el("div", "actions");
    const showOnMap = button(t("openArea"), "secondary");
    showOnMap.addEventListener("click", () => this.select(a.id));
    actions.append(showOnMap);
    if (a.geometry) {
      const geometry = a.geometry;
      const incidents = button(t("alertIncidents"), "secondary");
      incidents.addEventListener("click", () =>
        this.onIncidents({
          type: "FeatureCollection",
          features: [{ type: "Feature", geometry, properties: {} }],
        }),
      );
      actions.append(incidents);
    }
    li.append(actions);

    const reasonId = `alert-reason-${a.id}`;
    const label = el("label") as HTMLLabelElement;
    label.htmlFor = reasonId;
    label.textContent = t("reason");
    const reason = el("textarea") as HTMLTextAreaElement;
    reason.id = reasonId;
    reason.rows = 2;
    reason.maxLength = 2000;
    const error = el("p", "error");
    error.setAttribute("role", "alert");
    const moves = el("div", "actions");
    if (a.status === "new") {
      const ack = button(t("acknowledge"));
      ack.addEventListener("click", () => void this.move(a, "acknowledge", reason, error));
      moves.append(ack);
    }
    if (a.status === "acknowledged") {
      const resolve = button(t("resolve"));
      resolve.addEventListener("click", () => void this.move(a, "resolve", reason, error));
      moves.append(resolve);
    }
    const dismiss = button(t("dismiss"), "danger");
    dismiss.addEventListener("click", () => {
      if (!reason.value.trim()) {
        error.textContent = t("reasonRequired");
        reason.focus();
        return;
      }
      void this.move(a, "dismiss", reason, error);
    });
    moves.append(dismiss);
    li.append(label, reason, moves, error);
    return li;
  }

  private async move(
    a: Alert,
    action: "acknowledge" | "resolve" | "dismiss",
    reason: HTMLTextAreaElement,
    error: HTMLElement,
  ): Promise<void> {
    error.textContent = "";
    const text = reason.value.trim();
    try {
      const updated = await postJson<Alert>(`/api/v1/alerts/${a.id}/${action}`, {
        reason: text || null,
      });
      this.upsert(updated, false);
      this.changed();
      // The card is gone from this tab: keep the keyboard in the list.
      (this.body.querySelector<HTMLElement>("li.card") ?? this.body.querySelector("h2"))?.focus();
    } catch (exc) {
      error.textContent = exc instanceof ApiError ? exc.detail : String(exc);
    }
  }
}
