import { fieldLabel, formatDateTime, formatNumber, t, type Key } from "./i18n";

export interface DetailAction {
  label: Key;
  run(): void;
}

export interface Detail {
  kind: Key;
  /** Links across screens (an incident -> the dispatch board). */
  actions?: DetailAction[];
  /** A function when the title itself is translated. */
  title: string | (() => string);
  properties: Record<string, unknown>;
}

const DATE_FIELDS = /(_at|^at|since|until)$/;

function valueText(name: string, value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "number") {
    return name === "id" || name.endsWith("_id") ? String(value) : formatNumber(value);
  }
  if (typeof value === "string" && DATE_FIELDS.test(name)) return formatDateTime(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The right-hand panel: the properties of what was clicked. */
export class DetailPanel {
  private last: Detail | null = null;

  constructor(private readonly root: HTMLElement) {
    this.render();
  }

  show(detail: Detail): void {
    this.last = detail;
    this.root.hidden = false;
    this.render();
    (this.root.querySelector("h2") as HTMLElement).focus();
  }

  render(): void {
    const detail = this.last;
    this.root.innerHTML = "";
    const heading = document.createElement("h2");
    heading.tabIndex = -1;
    const title = typeof detail?.title === "function" ? detail.title() : detail?.title;
    heading.textContent = detail ? `${t(detail.kind)} · ${title}` : t("details");
    this.root.append(heading);
    if (!detail) {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = t("clickHint");
      this.root.append(hint);
      return;
    }
    const list = document.createElement("dl");
    list.dataset.kind = detail.kind;
    for (const [name, value] of Object.entries(detail.properties)) {
      const term = document.createElement("dt");
      term.textContent = fieldLabel(name);
      const desc = document.createElement("dd");
      desc.textContent = valueText(name, value);
      list.append(term, desc);
    }
    this.root.append(list);
    for (const action of detail.actions ?? []) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary detail-action";
      b.textContent = t(action.label);
      b.addEventListener("click", () => action.run());
      this.root.append(b);
    }
  }
}
