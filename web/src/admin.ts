import { ApiError, getJson, hasPermission, postJson, type Me } from "./api";
import { button, el, field } from "./dom";
import { applyTranslations, formatDateTime, formatNumber, lang, t } from "./i18n";

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  object_type: string | null;
  object_id: string | number | null;
  hash: string;
}

interface ChainReport {
  ok: boolean;
  checked: number;
  first_broken_id: number | null;
  reason: string | null;
}

const PAGE = 200;

/** The audit log viewer with chain verification. */
export class AuditView {
  private entries: AuditEntry[] = [];
  private done = false;
  private verdict: { ok: boolean; text: () => string } | null = null;

  constructor(private readonly root: HTMLElement) {
    root.innerHTML = `
      <div class="admin-head">
        <h2 data-i18n="auditTitle"></h2>
        <button type="button" id="verify-chain" data-i18n="verifyChain"></button>
        <p id="chain-result" role="status" aria-live="polite"></p>
      </div>
      <div class="table-wrap">
        <table class="audit-table">
          <thead><tr>
            <th scope="col" data-i18n="colId"></th><th scope="col" data-i18n="colAt"></th>
            <th scope="col" data-i18n="colActor"></th><th scope="col" data-i18n="colAction"></th>
            <th scope="col" data-i18n="colObject"></th><th scope="col" data-i18n="colHash"></th>
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <button type="button" id="audit-more" data-i18n="loadMore"></button>`;
    applyTranslations(root);
    root.querySelector("#verify-chain")?.addEventListener("click", () => void this.verify());
    root.querySelector("#audit-more")?.addEventListener("click", () => void this.more());
  }

  async open(): Promise<void> {
    if (this.entries.length === 0 && !this.done) await this.more();
  }

  private async more(): Promise<void> {
    const after = this.entries[this.entries.length - 1]?.id ?? 0;
    const page = await getJson<AuditEntry[]>("/api/v1/audit", { after_id: after, limit: PAGE });
    this.entries.push(...page);
    this.done = page.length < PAGE;
    this.render();
  }

  private async verify(): Promise<void> {
    const result = this.root.querySelector("#chain-result") as HTMLElement;
    result.textContent = t("verifying");
    try {
      const report = await getJson<ChainReport>("/api/v1/audit/verify");
      this.verdict = {
        ok: report.ok,
        text: () =>
          report.ok
            ? t("chainOk", { n: report.checked })
            : t("chainBroken", { id: String(report.first_broken_id), reason: report.reason ?? "" }),
      };
    } catch (exc) {
      const detail = exc instanceof ApiError ? exc.detail : String(exc);
      this.verdict = { ok: false, text: () => t("loadFailed", { detail }) };
    }
    this.render();
  }

  render(): void {
    const body = this.root.querySelector("tbody") as HTMLElement;
    body.innerHTML = "";
    for (const e of this.entries) {
      const row = document.createElement("tr");
      const object = e.object_type ? `${e.object_type} ${e.object_id ?? ""}` : "—";
      for (const text of [String(e.id), formatDateTime(e.at), e.actor, e.action, object]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      const hash = document.createElement("td");
      hash.className = "hash";
      hash.textContent = e.hash.slice(0, 12);
      hash.title = e.hash;
      row.append(hash);
      body.append(row);
    }
    if (this.entries.length === 0) {
      body.innerHTML = `<tr><td colspan="6">${t("noEntries")}</td></tr>`;
    }
    (this.root.querySelector("#audit-more") as HTMLElement).hidden = this.done;
    const result = this.root.querySelector("#chain-result") as HTMLElement;
    result.dataset.ok = this.verdict ? String(this.verdict.ok) : "";
    result.textContent = this.verdict ? this.verdict.text() : "";
  }
}

interface Unit {
  id: number;
  parent_id: number | null;
  level: string;
  code: string;
  name_zh: string;
  name_en: string;
  population: number | null;
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  is_active: boolean;
  grants: string[];
}

const ROLES = ["admin", "officer", "analyst", "grid_worker", "auditor", "reward_officer"];
type Tab = "org" | "users" | "audit";

/** Administration: the org tree, users and their roles, the audit log. */
export class AdminView {
  private tab: Tab;
  private readonly panes: Record<Tab, HTMLElement>;
  private readonly audit: AuditView | null;
  private users: UserRow[] = [];
  private usersError = "";
  private treeBuilt = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly me: Me,
  ) {
    const tabs: Tab[] = ["org"];
    if (hasPermission(me, "users:admin")) tabs.push("users");
    if (hasPermission(me, "audit:read")) tabs.push("audit");
    this.tab = tabs.includes("audit") && !hasPermission(me, "users:admin") ? "audit" : "org";
    const bar = el("div", "tabs");
    bar.setAttribute("role", "tablist");
    for (const tab of tabs) {
      const b = button("", "tab");
      b.dataset.tab = tab;
      b.setAttribute("role", "tab");
      b.addEventListener("click", () => {
        this.tab = tab;
        void this.open();
      });
      bar.append(b);
    }
    this.panes = { org: el("section", "pane"), users: el("section", "pane"), audit: el("section", "pane") };
    root.append(bar, this.panes.org, this.panes.users, this.panes.audit);
    this.audit = tabs.includes("audit") ? new AuditView(this.panes.audit) : null;
  }

  async open(): Promise<void> {
    this.renderTabs();
    if (this.tab === "org" && !this.treeBuilt) {
      this.treeBuilt = true;
      await this.buildTree();
    }
    if (this.tab === "users") await this.loadUsers();
    if (this.tab === "audit") await this.audit?.open();
  }

  private renderTabs(): void {
    const names: Record<Tab, string> = { org: t("orgTree"), users: t("users"), audit: t("auditLog") };
    for (const b of this.root.querySelectorAll<HTMLButtonElement>(".tabs > button[data-tab]")) {
      const tab = b.dataset.tab as Tab;
      b.textContent = names[tab];
      b.setAttribute("aria-selected", String(tab === this.tab));
    }
    for (const [tab, pane] of Object.entries(this.panes)) pane.hidden = tab !== this.tab;
  }

  render(): void {
    this.renderTabs();
    this.audit?.render();
    if (this.treeBuilt) {
      this.treeBuilt = false;
      if (this.tab === "org") void this.open();
    }
    this.renderUsers();
  }

  private unitLabel(u: Unit): string {
    const name = lang() === "zh" ? u.name_zh : u.name_en;
    const people = u.population === null ? "" : ` · ${formatNumber(u.population)}`;
    return `${name} (${u.code})${people}`;
  }

  private async children(parent: number | null): Promise<Unit[]> {
    if (parent === null) {
      const page = await getJson<{ items: Unit[] }>("/api/v1/org/units", { limit: 1000 });
      const ids = new Set(page.items.map((u) => u.id));
      // The roots of what this user may see: units whose parent is outside their scope.
      return page.items.filter((u) => u.parent_id === null || !ids.has(u.parent_id));
    }
    const page = await getJson<{ items: Unit[] }>("/api/v1/org/units", { parent_id: parent, limit: 1000 });
    return page.items;
  }

  private async buildTree(): Promise<void> {
    const pane = this.panes.org;
    pane.innerHTML = "";
    pane.append(el("h2", "", t("orgTree")), el("p", "hint", t("pickUnitHint")));
    const tree = el("ul", "org-tree");
    tree.setAttribute("role", "tree");
    pane.append(tree);
    try {
      for (const u of await this.children(null)) tree.append(this.node(u));
    } catch (exc) {
      pane.append(el("p", "error", exc instanceof ApiError ? exc.detail : String(exc)));
    }
  }

  private node(u: Unit): HTMLElement {
    const li = el("li");
    li.setAttribute("role", "treeitem");
    li.dataset.unit = String(u.id);
    li.dataset.level = u.level;
    const leaf = u.level === "grid";
    li.setAttribute("aria-expanded", leaf ? "" : "false");
    if (leaf) li.removeAttribute("aria-expanded");
    const b = button(`${leaf ? "·" : "▸"} ${this.unitLabel(u)}`, "link");
    const group = el("ul");
    group.setAttribute("role", "group");
    b.addEventListener("click", async () => {
      const unitField = this.panes.users.querySelector<HTMLInputElement>("#grant-unit");
      if (unitField) unitField.value = String(u.id);
      if (leaf) return;
      const open = li.getAttribute("aria-expanded") === "true";
      li.setAttribute("aria-expanded", String(!open));
      b.textContent = `${open ? "▸" : "▾"} ${this.unitLabel(u)}`;
      if (!open && group.childElementCount === 0) {
        for (const child of await this.children(u.id)) group.append(this.node(child));
      }
      group.hidden = open;
    });
    li.append(b, group);
    return li;
  }

  private async loadUsers(): Promise<void> {
    try {
      this.users = await getJson<UserRow[]>("/api/v1/users");
      this.usersError = "";
    } catch (exc) {
      this.usersError = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.renderUsers();
  }

  private renderUsers(): void {
    const pane = this.panes.users;
    pane.innerHTML = "";
    if (!hasPermission(this.me, "users:admin")) return;
    pane.append(el("h2", "", t("users")));
    if (this.usersError) pane.append(el("p", "error", this.usersError));
    const table = el("table", "grid-table users-table");
    const head = el("tr");
    for (const k of ["username", "displayName", "roles", "active"] as const) {
      const th = el("th", "", t(k));
      th.setAttribute("scope", "col");
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const u of this.users) {
      const row = el("tr");
      row.dataset.user = u.username;
      row.append(
        el("td", "", u.username),
        el("td", "", u.display_name),
        el("td", "", u.grants.join(", ") || "—"),
        el("td", "", u.is_active ? "✓" : "—"),
      );
      body.append(row);
    }
    table.append(thead, body);
    const wrap = el("div", "table-wrap");
    wrap.append(table);
    pane.append(wrap, this.grantForm(), this.createForm());
  }

  private grantForm(): HTMLElement {
    const form = el("form", "inline-form") as HTMLFormElement;
    const user = document.createElement("select");
    for (const u of this.users) user.add(new Option(u.username, String(u.id)));
    const role = document.createElement("select");
    for (const r of ROLES) role.add(new Option(r, r));
    const unit = document.createElement("input");
    unit.inputMode = "numeric";
    unit.required = true;
    const status = el("p", "status");
    status.setAttribute("role", "status");
    const submit = button(t("grant"));
    submit.type = "submit";
    form.append(
      el("h3", "", t("grantRole")),
      field("grant-user", t("user"), user),
      field("grant-role", t("role"), role),
      field("grant-unit", t("orgUnitId"), unit),
      submit,
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await postJson(`/api/v1/users/${user.value}/grants`, {
          role: role.value,
          org_unit_id: Number(unit.value),
        });
        await this.loadUsers();
        this.panes.users.querySelector(".inline-form .status")?.replaceChildren(t("saved"));
      } catch (exc) {
        status.textContent = exc instanceof ApiError ? exc.detail : String(exc);
      }
    });
    return form;
  }

  private createForm(): HTMLElement {
    const form = el("form", "inline-form") as HTMLFormElement;
    const username = document.createElement("input");
    username.required = true;
    username.autocomplete = "off";
    const display = document.createElement("input");
    display.required = true;
    const password = document.createElement("input");
    password.type = "password";
    password.required = true;
    password.autocomplete = "new-password";
    const status = el("p", "status");
    status.setAttribute("role", "status");
    const submit = button(t("create"));
    submit.type = "submit";
    form.append(
      el("h3", "", t("createUser")),
      field("new-username", t("username"), username),
      field("new-display", t("displayName"), display),
      field("new-password", t("password"), password),
      submit,
      status,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await postJson("/api/v1/users", {
          username: username.value.trim(),
          display_name: display.value.trim(),
          password: password.value,
        });
        await this.loadUsers();
      } catch (exc) {
        status.textContent = exc instanceof ApiError ? exc.detail : String(exc);
      }
    });
    return form;
  }
}
