import { ApiError, getJson } from "./api";
import { applyTranslations, formatDateTime, t } from "./i18n";

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
