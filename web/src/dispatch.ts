import { ApiError, getJson, postJson, type FeatureCollection } from "./api";
import { button, clock, el, field } from "./dom";
import { formatDateTime, formatNumber, stateName, t, type Key } from "./i18n";
import type { CityMap } from "./map/citymap";
import { responderName, typeName } from "./names";

interface Incident {
  id: number;
  type: string;
  occurred_at: string;
  lon: number;
  lat: number;
  severity: number;
  status: string;
  summary: string | null;
}

interface Candidate {
  responder_id: number;
  display_name: string;
  tier: number;
  kind: string;
  eta_s: number;
  straight_m: number;
  route: GeoJSON.Geometry | null;
}

interface Assignment {
  id: number;
  incident_id: number;
  responder_id: number;
  tier: number;
  status: string;
  eta_s: number | null;
  dispatched_at: string;
  ack_deadline: string;
  acknowledged_at: string | null;
}

interface CommandBoard {
  command: { id: number; name: string; kind: string; activated_at: string };
  elapsed_s: number;
  available_by_tier: Record<string, number>;
  open_incidents: unknown[];
  latest_log: Array<{ id: number; at: string; actor: string; kind: string; text: string }>;
}

const LOG_KINDS = ["note", "decision", "order", "report"] as const;

interface LogEntry {
  at: string;
  kind: string;
  actor: string;
  assignment_id: number | null;
  detail: Record<string, unknown>;
}

// What a dispatcher may set next, by the assignment's status (dispatch/assignments.py).
const NEXT: Record<string, string[]> = {
  dispatched: ["acknowledged", "en_route", "on_scene", "cancelled"],
  acknowledged: ["en_route", "on_scene", "cancelled"],
  en_route: ["on_scene", "cancelled"],
  on_scene: ["cleared"],
};
const INCOMING = ["reported", "dispatched", "on_scene"];
const SHOWN = 60;
const EMPTY: FeatureCollection = { type: "FeatureCollection", features: [] };

/**
 * The dispatch board: incoming incidents, recommended responders with ETAs and
 * routes on the map, dispatch, acknowledgement countdowns, and the command log,
 * kept current by the dispatch event stream.
 */
export class DispatchBoard {
  private incidents: Incident[] = [];
  private selected: Incident | null = null;
  private candidates: Candidate[] = [];
  private chosen = new Set<number>();
  private focusCandidate: number | null = null;
  private assignments: Assignment[] = [];
  private log: LogEntry[] = [];
  private error = "";
  private started = false;
  private stream: EventSource | null = null;
  private ticker: number | undefined;
  private readonly openedAt = new Date().toISOString();
  private command: CommandBoard | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly cityMap: CityMap,
  ) {
    root.classList.add("inbox", "board");
  }

  async show(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.listen();
      await this.loadIncidents();
    }
    this.drawIncidents();
    this.drawRoutes();
    void this.loadResponders();
    await this.loadCommand();
    this.render();
    // The acknowledgement countdowns tick while the board is open.
    window.clearInterval(this.ticker);
    this.ticker = window.setInterval(() => this.tick(), 1000);
  }

  hide(): void {
    window.clearInterval(this.ticker);
    for (const key of ["dispatch-incidents", "routes", "responders"] as const) {
      void this.cityMap.setOverlay(key, EMPTY);
    }
  }

  stop(): void {
    this.stream?.close();
    window.clearInterval(this.ticker);
  }

  private listen(): void {
    this.stream = new EventSource("/api/v1/dispatch/events?max_seconds=600");
    const onEvent = (event: Event): void => {
      const data = JSON.parse((event as MessageEvent<string>).data) as LogEntry & {
        incident_id: number;
      };
      // The stream starts at the first entry; what happened before the board opened is history.
      if (data.at < this.openedAt) return;
      this.root.dataset.lastEvent = `${data.incident_id}:${event.type}`;
      if (this.selected?.id === data.incident_id) void this.loadSelected();
      void this.loadIncidents().then(() => {
        this.drawIncidents();
        this.renderList();
      });
    };
    for (const kind of [
      "plan", "dispatched", "supervisor", "acknowledged", "en_route", "on_scene", "cleared",
      "cancelled", "ack_timeout", "timed_out", "escalated",
    ]) {
      this.stream.addEventListener(kind, onEvent);
    }
  }

  private async loadIncidents(): Promise<void> {
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString();
    try {
      const pages = await Promise.all(
        INCOMING.map((status) =>
          getJson<{ items: Incident[] }>("/api/v1/incidents", { status, since, limit: 1000 }),
        ),
      );
      this.incidents = pages
        .flatMap((p) => p.items)
        .sort((a, b) => b.occurred_at.localeCompare(a.occurred_at))
        .slice(0, SHOWN);
      if (this.selected) {
        this.selected = this.incidents.find((i) => i.id === this.selected?.id) ?? this.selected;
      }
      this.error = "";
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
  }

  /** Command mode: the active command's situation and its shared log, if one is active. */
  private async loadCommand(): Promise<void> {
    try {
      const active = await getJson<Array<{ id: number }>>("/api/v1/dispatch/commands", {
        status: "active",
      });
      const first = active[0];
      this.command = first
        ? await getJson<CommandBoard>(`/api/v1/dispatch/commands/${first.id}/board`)
        : null;
    } catch {
      this.command = null; // command mode is optional: the board works without it
    }
  }

  private commandBox(b: CommandBoard): HTMLElement {
    const box = el("section", "command-mode");
    box.dataset.command = String(b.command.id);
    box.append(
      el("h3", "section", t("commandMode", { name: b.command.name })),
      el(
        "p",
        "meta",
        `${t("elapsed")} ${clock(b.elapsed_s)} · ${t("availableByTier")} ${Object.entries(
          b.available_by_tier,
        )
          .map(([tier, n]) => `${tier}: ${n}`)
          .join(", ")}`,
      ),
    );
    const log = el("ol", "log command-log");
    for (const e of b.latest_log) {
      const kind = t(`log_${e.kind}` as Key);
      log.append(el("li", "", `${formatDateTime(e.at)} · ${kind} · ${e.actor}: ${e.text}`));
    }
    const form = el("form", "inline-form") as HTMLFormElement;
    const kind = document.createElement("select");
    for (const k of LOG_KINDS) kind.add(new Option(t(`log_${k}` as Key), k));
    const text = document.createElement("input");
    text.required = true;
    text.maxLength = 2000;
    const add = button(t("addToLog"));
    add.type = "submit";
    form.append(field("command-log-kind", t("kind"), kind), field("command-log-text", t("logText"), text), add);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      try {
        await postJson(`/api/v1/dispatch/commands/${b.command.id}/log`, {
          kind: kind.value,
          text: text.value.trim(),
          incident_id: this.selected?.id ?? null,
        });
        await this.loadCommand();
        this.render();
      } catch (exc) {
        this.error = exc instanceof ApiError ? exc.detail : String(exc);
        this.render();
      }
    });
    box.append(log, form);
    return box;
  }

  private drawIncidents(): void {
    const features = this.incidents.map(
      (i): GeoJSON.Feature => ({
        type: "Feature",
        id: i.id,
        geometry: { type: "Point", coordinates: [i.lon, i.lat] },
        properties: { incident_id: i.id, severity: i.severity, selected: i.id === this.selected?.id },
      }),
    );
    void this.cityMap.setOverlay("dispatch-incidents", { type: "FeatureCollection", features });
  }

  private drawRoutes(): void {
    const features = this.candidates
      .filter((c) => c.route)
      .map(
        (c): GeoJSON.Feature => ({
          type: "Feature",
          geometry: c.route as GeoJSON.Geometry,
          properties: {
            responder_id: c.responder_id,
            selected: this.chosen.has(c.responder_id) || c.responder_id === this.focusCandidate,
          },
        }),
      );
    void this.cityMap.setOverlay("routes", { type: "FeatureCollection", features });
  }

  private async loadResponders(): Promise<void> {
    try {
      const doc = await getJson<FeatureCollection>("/api/v1/map/responders.geojson");
      for (const f of doc.features) {
        const props = f.properties ?? {};
        props.selected = this.chosen.has(Number(props.responder_id));
        f.properties = props;
      }
      await this.cityMap.setOverlay("responders", doc);
      this.root.dataset.responders = String(doc.features.length);
    } catch {
      // Older servers have no positions layer; the board works without it.
    }
  }

  /** Select an incident: its recommendations, assignments and command log. */
  async select(id: number): Promise<void> {
    const found = this.incidents.find((i) => i.id === id);
    this.selected =
      found ?? (await getJson<Incident>(`/api/v1/incidents/${id}`).catch(() => null));
    this.candidates = [];
    this.chosen.clear();
    this.focusCandidate = null;
    this.drawIncidents();
    this.drawRoutes();
    this.render();
    if (!this.selected) return;
    const point: FeatureCollection = {
      type: "FeatureCollection",
      features: [
        {
          type: "Feature",
          geometry: { type: "Point", coordinates: [this.selected.lon, this.selected.lat] },
          properties: {},
        },
      ],
    };
    void this.cityMap.fitTo(point, 14);
    await Promise.all([this.recommend(), this.loadSelected()]);
    this.root.querySelector<HTMLElement>(".selected-incident h3")?.focus();
  }

  private async recommend(): Promise<void> {
    if (!this.selected) return;
    try {
      this.candidates = await postJson<Candidate[]>("/api/v1/dispatch/recommend", {
        incident_id: this.selected.id,
        k: 5,
      });
      this.error = "";
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.drawRoutes();
    if (this.candidates.some((c) => c.route)) {
      void this.cityMap.fitTo({
        type: "FeatureCollection",
        features: this.candidates
          .filter((c) => c.route)
          .map((c) => ({ type: "Feature", geometry: c.route as GeoJSON.Geometry, properties: {} })),
      });
    }
    this.render();
  }

  private async loadSelected(): Promise<void> {
    if (!this.selected) return;
    const id = this.selected.id;
    try {
      const [assignments, log] = await Promise.all([
        getJson<Assignment[]>(`/api/v1/dispatch/incidents/${id}/assignments`),
        getJson<LogEntry[]>(`/api/v1/dispatch/incidents/${id}/timeline`),
      ]);
      if (this.selected?.id !== id) return;
      this.assignments = assignments;
      this.log = log;
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.render();
  }

  private async dispatch(byPlan: boolean): Promise<void> {
    if (!this.selected) return;
    const ids = byPlan ? null : [...this.chosen];
    try {
      await postJson(`/api/v1/dispatch/incidents/${this.selected.id}/dispatch`, {
        responder_ids: ids,
      });
      this.error = "";
      this.chosen.clear();
      await this.loadIncidents();
      this.drawIncidents();
      await Promise.all([this.loadSelected(), this.recommend(), this.loadResponders()]);
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
      this.render();
    }
  }

  private async setStatus(assignment: Assignment, status: string): Promise<void> {
    try {
      await postJson(`/api/v1/dispatch/assignments/${assignment.id}/status`, { status });
      this.error = "";
      await this.loadSelected();
      void this.loadResponders();
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
      this.render();
    }
  }

  /** Keyboard: j/k move through incidents, r recommends again, Enter dispatches. */
  handleKey(key: string): boolean {
    const at = this.incidents.findIndex((i) => i.id === this.selected?.id);
    if (key === "j" || key === "k") {
      const next = this.incidents[Math.max(0, Math.min(this.incidents.length - 1, at + (key === "j" ? 1 : -1)))];
      if (next) void this.select(next.id);
      return true;
    }
    if (key === "r" && this.selected) {
      void this.recommend();
      return true;
    }
    if (key === "Enter" && this.selected && this.chosen.size > 0) {
      void this.dispatch(false);
      return true;
    }
    return false;
  }

  /** A click on the map: an incident selects it, a responder or route picks that candidate. */
  onOverlay(layer: string, properties: Record<string, unknown>): void {
    if (layer === "dispatch-incidents") void this.select(Number(properties.incident_id));
    if (layer === "routes" || layer === "responders") {
      const id = Number(properties.responder_id);
      if (this.candidates.some((c) => c.responder_id === id)) this.toggle(id);
    }
  }

  private toggle(id: number): void {
    if (this.chosen.has(id)) this.chosen.delete(id);
    else this.chosen.add(id);
    this.drawRoutes();
    this.render();
  }

  private tick(): void {
    const now = Date.now();
    for (const cell of this.root.querySelectorAll<HTMLElement>("[data-deadline]")) {
      const left = (Date.parse(cell.dataset.deadline ?? "") - now) / 1000;
      cell.textContent = left >= 0 ? t("ackIn", { t: clock(left) }) : t("ackOverdue", { t: clock(-left) });
      cell.dataset.overdue = String(left < 0);
    }
  }

  render(): void {
    this.root.innerHTML = "";
    const head = el("div", "inbox-head");
    head.append(el("h2", "", t("dispatchTitle")), el("span", "live-dot", t("live")));
    this.root.append(head);
    if (this.error) {
      const p = el("p", "error", this.error);
      p.setAttribute("role", "alert");
      this.root.append(p);
    }
    if (this.command) this.root.append(this.commandBox(this.command));
    this.root.append(el("h3", "section", t("incoming")));
    const list = el("ul", "cards incidents");
    list.setAttribute("aria-label", t("incoming"));
    this.root.append(list);
    this.renderList();
    if (this.selected) this.root.append(this.renderSelected(this.selected));
    this.tick();
  }

  private renderList(): void {
    const list = this.root.querySelector("ul.incidents");
    if (!list) return;
    list.innerHTML = "";
    for (const i of this.incidents) {
      const li = el("li", "row");
      const b = button("", "link");
      b.dataset.incident = String(i.id);
      b.setAttribute("aria-pressed", String(i.id === this.selected?.id));
      const name = el("span", "", `#${i.id} …`);
      void typeName(i.type).then((n) => (name.textContent = `#${i.id} ${n}`));
      const sev = el("span", `sev sev-${i.severity}`, `S${i.severity}`);
      const when = el("span", "meta", `${formatDateTime(i.occurred_at)} · ${stateName(i.status)}`);
      b.append(sev, name, when);
      b.addEventListener("click", () => void this.select(i.id));
      li.append(b);
      list.append(li);
    }
    if (this.incidents.length === 0) list.append(el("li", "hint", t("noIncoming")));
  }

  private renderSelected(i: Incident): HTMLElement {
    const box = el("section", "selected-incident");
    const h = el("h3", "", `#${i.id}`);
    h.tabIndex = -1;
    void typeName(i.type).then((n) => (h.textContent = `#${i.id} ${n}`));
    box.append(
      h,
      el(
        "p",
        "meta",
        `${formatDateTime(i.occurred_at)} · ${t("severity")} ${i.severity} · ${stateName(i.status)}`,
      ),
    );
    if (i.summary) box.append(el("p", "", i.summary));

    box.append(el("h4", "", t("recommended")));
    const table = el("table", "grid-table candidates");
    const head = el("tr");
    for (const k of ["choose", "responder", "eta", "distance"] as const) {
      const th = el("th", "", t(k));
      th.setAttribute("scope", "col");
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const c of this.candidates) {
      const row = el("tr");
      row.dataset.responder = String(c.responder_id);
      const pick = document.createElement("input");
      pick.type = "checkbox";
      pick.checked = this.chosen.has(c.responder_id);
      pick.setAttribute("aria-label", t("chooseResponder", { name: c.display_name }));
      pick.addEventListener("change", () => this.toggle(c.responder_id));
      const cell = el("td");
      cell.append(pick);
      row.append(
        cell,
        el("td", "", `${c.display_name} (${t("tier")} ${c.tier})`),
        el("td", "eta", clock(c.eta_s)),
        el("td", "", `${formatNumber(c.straight_m / 1000)} km`),
      );
      row.addEventListener("mouseenter", () => {
        this.focusCandidate = c.responder_id;
        this.drawRoutes();
      });
      body.append(row);
    }
    if (this.candidates.length === 0) {
      const row = el("tr");
      const cell = el("td", "hint", t("noCandidates"));
      cell.setAttribute("colspan", "4");
      row.append(cell);
      body.append(row);
    }
    table.append(thead, body);
    box.append(table);
    const actions = el("div", "actions");
    const send = button(t("dispatchChosen"));
    send.id = "dispatch-chosen";
    send.disabled = this.chosen.size === 0;
    send.addEventListener("click", () => void this.dispatch(false));
    const plan = button(t("dispatchByPlan"), "secondary");
    plan.addEventListener("click", () => void this.dispatch(true));
    actions.append(send, plan);
    box.append(actions);

    box.append(el("h4", "", t("assignments")));
    const assigned = el("ul", "cards assignments");
    for (const a of this.assignments) assigned.append(this.assignmentCard(a));
    if (this.assignments.length === 0) assigned.append(el("li", "hint", t("noAssignments")));
    box.append(assigned);

    box.append(el("h4", "", t("commandLog")));
    const log = el("ol", "log incident-log");
    for (const e of this.log) {
      log.append(el("li", "", `${formatDateTime(e.at)} · ${stateName(e.kind)} · ${e.actor}`));
    }
    box.append(log);
    return box;
  }

  private assignmentCard(a: Assignment): HTMLElement {
    const li = el("li", "card");
    li.dataset.assignment = String(a.id);
    li.dataset.status = a.status;
    const who = el("strong", "", `#${a.responder_id}`);
    void responderName(a.responder_id).then((n) => (who.textContent = n));
    const status = el("span", "badge", stateName(a.status));
    li.append(who, status);
    if (a.status === "dispatched") {
      const countdown = el("span", "countdown");
      countdown.dataset.deadline = a.ack_deadline;
      li.append(countdown);
    }
    if (a.eta_s !== null) li.append(el("span", "meta", `ETA ${clock(a.eta_s)}`));
    const moves = el("div", "actions");
    for (const next of NEXT[a.status] ?? []) {
      const b = button(t(`set_${next}` as Key), next === "cancelled" ? "danger" : "secondary");
      b.dataset.next = next;
      b.addEventListener("click", () => void this.setStatus(a, next));
      moves.append(b);
    }
    li.append(moves);
    return li;
  }
}
