import { ApiError, getJson } from "./api";
import { el, field } from "./dom";
import { formatDateTime, stateName, t, type Key } from "./i18n";
import { unitName } from "./names";

interface Briefing {
  id: number;
  kind: string;
  org_unit_id: number;
  period_label: string;
  sensitive: boolean;
  version: number;
  status: string;
  language: string;
  created_at: string;
  published_at: string | null;
  html_url: string;
  pdf_url: string;
}

const KINDS = ["", "daily", "weekly", "monthly"] as const;

/** Reports: the briefings archive, each viewable in the page and downloadable as PDF. */
export class ReportsView {
  private briefings: Briefing[] = [];
  private kind = "";
  private error = "";

  constructor(private readonly root: HTMLElement) {
    root.classList.add("reports");
  }

  async open(): Promise<void> {
    try {
      this.briefings = await getJson<Briefing[]>("/api/v1/reports/briefings", {
        kind: this.kind || undefined,
        limit: 200,
      });
      this.error = "";
    } catch (exc) {
      this.error = exc instanceof ApiError ? exc.detail : String(exc);
    }
    this.render();
  }

  close(): void {}

  render(): void {
    this.root.innerHTML = "";
    this.root.append(el("h2", "", t("briefings")));
    const kind = document.createElement("select");
    for (const k of KINDS) kind.add(new Option(k ? t(`kind_${k}` as Key) : t("inbox_all"), k));
    kind.value = this.kind;
    kind.addEventListener("change", () => {
      this.kind = kind.value;
      void this.open();
    });
    this.root.append(field("briefing-kind", t("briefingKind"), kind));
    if (this.error) {
      const p = el("p", "error", this.error);
      p.setAttribute("role", "alert");
      this.root.append(p);
    }
    const table = el("table", "grid-table briefings-table");
    const head = el("tr");
    for (const k of ["period", "briefingKind", "area", "state", "filedAt", "download"] as const) {
      const th = el("th", "", k === "period" ? t("periodLabel") : t(k));
      th.setAttribute("scope", "col");
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    for (const b of this.briefings) {
      const row = el("tr");
      row.dataset.briefing = String(b.id);
      // The server forbids framing its pages, so a briefing opens in its own tab.
      const view = document.createElement("a");
      view.href = b.html_url;
      view.target = "_blank";
      view.rel = "noopener";
      view.textContent = `${b.period_label} (v${b.version})`;
      const first = el("td");
      first.append(view);
      const where = el("td", "", `#${b.org_unit_id}`);
      void unitName(b.org_unit_id).then((n) => (where.textContent = n));
      const pdf = document.createElement("a");
      pdf.href = b.pdf_url;
      pdf.textContent = "PDF";
      pdf.setAttribute("download", "");
      const last = el("td");
      last.append(pdf);
      row.append(
        first,
        el("td", "", t(`kind_${b.kind}` as Key)),
        where,
        el("td", "", stateName(b.status)),
        el("td", "", formatDateTime(b.published_at ?? b.created_at)),
        last,
      );
      body.append(row);
    }
    if (this.briefings.length === 0) {
      const row = el("tr");
      const cell = el("td", "hint", t("noBriefings"));
      cell.setAttribute("colspan", "6");
      row.append(cell);
      body.append(row);
    }
    table.append(thead, body);
    const wrap = el("div", "table-wrap");
    wrap.append(table);
    this.root.append(wrap);
  }
}
