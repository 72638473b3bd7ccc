import { ApiError, getJson, postJson, type FeatureCollection } from "./api";
import { button, el, field } from "./dom";
import { duration, formatDateTime, lang, stateName, t, transitionName, type Key } from "./i18n";
import type { CityMap } from "./map/citymap";

interface Clock {
  name: string;
  basis: string;
  status: string;
  due_at: string | null;
  remaining_s: number;
  total_s: number;
  overdue: boolean;
}

interface Case {
  id: number;
  number: string;
  case_type: string;
  state: string;
  is_open: boolean;
  category: string;
  title: string;
  description: string;
  address: string;
  lon: number;
  lat: number;
  department: string | null;
  supervision_flag: boolean;
  rating: number | null;
  created_at: string;
  allowed_transitions: string[];
  clocks: Clock[];
}

interface CaseEvent {
  id: number;
  at: string;
  actor: string;
  kind: string;
  from_state: string | null;
  to_state: string | null;
  detail: Record<string, unknown>;
}

interface Attachment {
  id: number;
  filename: string;
  content_type: string;
  size: number;
  purpose: string;
  uploaded_at: string;
}

interface CaseDetail extends Case {
  timeline: CaseEvent[];
  attachments: Attachment[];
}

interface Category {
  code: string;
  case_type: string;
  name_zh: string;
  name_en: string;
}

const INBOXES = ["all", "mine", "unit", "overdue", "due_today", "flagged"] as const;
type Inbox = (typeof INBOXES)[number];

// Fields a transition needs (the workflow's `required`); the server checks them again.
const REQUIRED: Record<string, string[]> = {
  cancel: ["reason"],
  suspend: ["reason"],
  feedback: ["result"],
  reopen: ["reason"],
  evaluate: ["rating"],
};

// Fields with a fixed set of values, and fields that may be given (grid_event's cancel).
const CHOICES: Record<string, string[]> = { "cancel.reason": ["duplicate", "invalid"] };
const OPTIONAL: Record<string, string[]> = { cancel: ["duplicate_of"] };

/** Case inboxes and the case page: timeline, clocks, allowed actions, attachments. */
export class CasesView {
  private inbox: Inbox = "all";
  private onlyOpen = true;
  private query = "";
  private cases: Case[] = [];
  private current: CaseDetail | null = null;
  private categories = new Map<string, Category>();
  private error = "";
  private ticker: number | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly cityMap: CityMap,
    private readonly showMap: () => void,
  ) {
    root.classList.add("cases-view");
  }

  async open(): Promise<void> {
    if (this.categories.size === 0) {
      const rows = await getJson<Category[]>("/api/v1/cases/categories").catch(() => []);
      this.categories = new Map(rows.map((c) => [c.code, c]));
    }
    await this.load();
    window.clearInterval(this.ticker);
    this.ticker = window.setInterval(() => this.tick(), 1000);
  }

  close(): void {
    window.clearInterval(this.ticker);
  }

  private async load(render = true): Promise<void> {
    try {
      const page = await getJson<{ items: Case[] }>("/api/v1/cases", {
        inbox: this.inbox,
        open: this.onlyOpen ? true : undefined,
        q: this.query || undefined,
        limit: 200,
      });
      this.cases = page.items.sort((a, b) => b.created_at.localeCompare(a.created_at));
      this.error = "";
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    if (render) this.render();
  }

  async openCase(id: number, withList = false): Promise<void> {
    try {
      // One render for both, so a form being filled in is not replaced under the user.
      const [found] = await Promise.all([
        getJson<CaseDetail>(`/api/v1/cases/${id}`),
        withList ? this.load(false) : Promise.resolve(),
      ]);
      this.current = found;
      this.error = "";
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.render();
    this.root.querySelector<HTMLElement>(".case-page h2")?.focus();
  }

  private categoryName(code: string): string {
    const c = this.categories.get(code);
    if (!c) return code;
    return lang() === "zh" ? c.name_zh : c.name_en;
  }

  render(): void {
    this.root.innerHTML = "";
    const inbox = el("section", "case-inbox");
    inbox.setAttribute("aria-label", t("caseInbox"));
    inbox.append(el("h2", "", t("caseInbox")));
    const tabs = el("div", "tabs");
    tabs.setAttribute("role", "tablist");
    for (const name of INBOXES) {
      const b = button(t(`inbox_${name}` as Key), "tab");
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", String(name === this.inbox));
      b.addEventListener("click", () => {
        this.inbox = name;
        void this.load();
      });
      tabs.append(b);
    }
    const filters = el("form", "filters");
    const search = document.createElement("input");
    search.type = "search";
    search.value = this.query;
    const open = document.createElement("input");
    open.type = "checkbox";
    open.checked = this.onlyOpen;
    const openLabel = el("label", "inline");
    openLabel.append(open, document.createTextNode(t("onlyOpen")));
    filters.append(field("case-search", t("search"), search), openLabel, button(t("apply")));
    (filters.lastElementChild as HTMLButtonElement).type = "submit";
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      this.query = search.value.trim();
      this.onlyOpen = open.checked;
      void this.load();
    });
    inbox.append(tabs, filters);
    if (this.error) {
      const p = el("p", "error", this.error);
      p.setAttribute("role", "alert");
      inbox.append(p);
    }
    const table = el("table", "grid-table case-table");
    const head = el("tr");
    for (const k of ["caseNumber", "caseTitle", "category", "state", "timeLeft"] as const) {
      const th = el("th", "", t(k));
      th.setAttribute("scope", "col");
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const c of this.cases) {
      const row = el("tr");
      row.dataset.case = String(c.id);
      if (c.id === this.current?.id) row.classList.add("selected");
      const link = button(c.number, "link");
      link.addEventListener("click", () => void this.openCase(c.id));
      const first = el("td");
      first.append(link);
      const running = c.clocks.find((k) => k.status === "running" && k.due_at);
      const left = el("td", "clock-left");
      if (running?.due_at) left.dataset.due = running.due_at;
      row.append(
        first,
        el("td", "", c.title),
        el("td", "", this.categoryName(c.category)),
        el("td", "", stateName(c.state)),
        left,
      );
      if (c.supervision_flag) row.classList.add("flagged");
      body.append(row);
    }
    if (this.cases.length === 0) {
      const row = el("tr");
      const cell = el("td", "hint", t("noCases"));
      cell.setAttribute("colspan", "5");
      row.append(cell);
      body.append(row);
    }
    table.append(thead, body);
    const wrap = el("div", "table-wrap");
    wrap.append(table);
    inbox.append(wrap);
    this.root.append(inbox);
    if (this.current) this.root.append(this.casePage(this.current));
    this.tick();
  }

  private casePage(c: CaseDetail): HTMLElement {
    const page = el("article", "case-page");
    page.dataset.state = c.state;
    const h = el("h2", "", `${c.number} · ${c.title}`);
    h.tabIndex = -1;
    page.append(h);
    const facts = el("dl", "facts");
    const add = (k: Key, v: string): void => {
      facts.append(el("dt", "", t(k)), el("dd", "", v || "—"));
    };
    add("state", stateName(c.state));
    add("category", this.categoryName(c.category));
    add("address", c.address);
    add("department", c.department ?? "");
    add("filedAt", formatDateTime(c.created_at));
    if (c.rating !== null) add("rating", String(c.rating));
    facts.querySelector("dd")?.setAttribute("id", "case-state");
    page.append(facts);
    if (c.description) page.append(el("p", "", c.description));
    const onMap = button(t("showOnMap"), "secondary");
    onMap.addEventListener("click", () => {
      const doc: FeatureCollection = {
        type: "FeatureCollection",
        features: [
          { type: "Feature", geometry: { type: "Point", coordinates: [c.lon, c.lat] }, properties: {} },
        ],
      };
      this.showMap();
      void this.cityMap.setOverlay("focus", doc).then(() => this.cityMap.fitTo(doc, 16));
    });
    page.append(onMap);

    page.append(el("h3", "", t("clocks")));
    const clocks = el("ul", "clocks");
    for (const k of c.clocks) {
      const li = el("li", `clock clock-${k.status}`);
      li.append(el("strong", "", t(`clock_${k.name}` as Key) || k.name));
      li.append(el("span", "badge", stateName(k.status)));
      if (k.due_at) {
        li.append(el("span", "meta", `${t("due")} ${formatDateTime(k.due_at)}`));
        if (k.status === "running") {
          const left = el("span", "clock-left");
          left.dataset.due = k.due_at;
          li.append(left);
        }
      }
      if (k.status === "paused") {
        li.append(el("span", "meta", t("workingLeft", { t: duration(k.remaining_s) })));
      }
      clocks.append(li);
    }
    if (c.clocks.length === 0) clocks.append(el("li", "hint", t("noClocks")));
    page.append(clocks);

    page.append(el("h3", "", t("actions")));
    page.append(this.actionsForm(c));

    page.append(el("h3", "", t("timeline")));
    const timeline = el("ol", "timeline");
    for (const e of c.timeline) {
      const move = e.to_state ? ` → ${stateName(e.to_state)}` : "";
      const what = typeof e.detail.transition === "string" ? e.detail.transition : e.kind;
      const li = el("li", "", `${formatDateTime(e.at)} · ${transitionName(what)}${move} · ${e.actor}`);
      const given = (e.detail.fields ?? {}) as Record<string, unknown>;
      const note = given.reason ?? given.result ?? e.detail.text;
      if (typeof note === "string" && note) li.append(el("div", "meta", note));
      timeline.append(li);
    }
    page.append(timeline);

    page.append(el("h3", "", t("attachments")));
    const files = el("ul", "attachments");
    for (const a of c.attachments) {
      const li = el("li");
      const link = document.createElement("a");
      link.href = `/api/v1/cases/${c.id}/attachments/${a.id}`;
      link.textContent = a.filename;
      link.target = "_blank";
      link.rel = "noopener";
      li.append(link, el("span", "meta", ` ${Math.ceil(a.size / 1024)} KB · ${formatDateTime(a.uploaded_at)}`));
      files.append(li);
    }
    if (c.attachments.length === 0) files.append(el("li", "hint", t("noAttachments")));
    page.append(files, this.uploadForm(c));
    return page;
  }

  private actionsForm(c: CaseDetail): HTMLElement {
    const box = el("div", "case-actions");
    const error = el("p", "error");
    error.setAttribute("role", "alert");
    if (c.allowed_transitions.length === 0) box.append(el("p", "hint", t("noActions")));
    for (const name of c.allowed_transitions) {
      const form = el("form", "action-form") as HTMLFormElement;
      form.dataset.transition = name;
      // Our own check names the missing field in the page (and in the user's language).
      form.noValidate = true;
      const inputs: Array<[string, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement]> = [];
      const optional = OPTIONAL[name] ?? [];
      for (const f of [...(REQUIRED[name] ?? []), ...optional]) {
        let control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
        const choices = CHOICES[`${name}.${f}`] ?? (f === "rating" ? ["1", "2", "3", "4", "5"] : null);
        if (choices) {
          const select = document.createElement("select");
          for (const v of ["", ...choices]) select.add(new Option(v ? t(`choice_${v}` as Key) : "—", v));
          control = select;
        } else if (optional.includes(f)) {
          control = document.createElement("input");
        } else {
          const area = document.createElement("textarea");
          area.rows = 2;
          control = area;
        }
        control.required = !optional.includes(f);
        form.append(field(`case-${name}-${f}`, t(`field_${f}` as Key), control));
        inputs.push([f, control]);
      }
      const submit = button(transitionName(name), name === "cancel" ? "danger" : "");
      submit.type = "submit";
      form.append(submit);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        error.textContent = "";
        const fields: Record<string, unknown> = {};
        for (const [f, control] of inputs) {
          const value = control.value.trim();
          if (!value && !control.required) continue;
          if (!value) {
            error.textContent = t("fieldRequired", { field: t(`field_${f}` as Key) });
            control.focus();
            return;
          }
          fields[f] = f === "rating" ? Number(value) : value;
        }
        void this.take(c, name, fields, error);
      });
      box.append(form);
    }
    box.append(error);
    return box;
  }

  private async take(
    c: CaseDetail,
    name: string,
    fields: Record<string, unknown>,
    error: HTMLElement,
  ): Promise<void> {
    try {
      await postJson(`/api/v1/cases/${c.id}/transitions`, { transition: name, fields });
      await this.openCase(c.id, true);
    } catch (exc) {
      error.textContent = exc instanceof ApiError ? exc.detail : String(exc);
      // A workflow this page does not know asked for a field: offer it next time.
      const wanted = exc instanceof ApiError ? /^fields\.(\w+)$/.exec(exc.field ?? "") : null;
      if (wanted && !(REQUIRED[name] ?? []).includes(wanted[1])) {
        REQUIRED[name] = [...(REQUIRED[name] ?? []), wanted[1]];
        const keep = error.textContent;
        this.render();
        const again = this.root.querySelector(".case-actions .error");
        if (again) again.textContent = keep;
      }
    }
  }

  private uploadForm(c: CaseDetail): HTMLElement {
    const form = el("form", "upload") as HTMLFormElement;
    const file = document.createElement("input");
    file.type = "file";
    file.name = "file";
    file.accept = "image/jpeg,image/png,application/pdf";
    const error = el("p", "error");
    error.setAttribute("role", "alert");
    const submit = button(t("upload"));
    submit.type = "submit";
    form.append(field("case-file", t("attachFile"), file), submit, error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!file.files?.length) {
        error.textContent = t("chooseFile");
        return;
      }
      const data = new FormData(form);
      const response = await fetch(`/api/v1/cases/${c.id}/attachments`, {
        method: "POST",
        body: data,
        credentials: "same-origin",
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { detail?: string };
        error.textContent = body.detail ?? `${response.status}`;
        return;
      }
      await this.openCase(c.id);
    });
    return form;
  }

  private tick(): void {
    const now = Date.now();
    for (const cell of this.root.querySelectorAll<HTMLElement>("[data-due]")) {
      const left = (Date.parse(cell.dataset.due ?? "") - now) / 1000;
      cell.textContent = left >= 0 ? t("leftIn", { t: duration(left) }) : t("overdueBy", { t: duration(-left) });
      cell.dataset.overdue = String(left < 0);
    }
  }
}
