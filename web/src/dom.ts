// Small helpers to build elements from script: text goes in as textContent,
// never as HTML, so API data cannot inject markup.

export function el(tag: string, className = "", text = ""): HTMLElement {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

export function button(text: string, variant = ""): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  if (variant) b.classList.add(variant);
  return b;
}

/** A labelled form control: the label is tied to the control by id. */
export function field(id: string, labelText: string, control: HTMLElement): HTMLElement {
  const wrap = el("div", "field");
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = labelText;
  control.id = id;
  wrap.append(label, control);
  return wrap;
}

/** Seconds as h:mm:ss or m:ss, with a minus sign once past. */
export function clock(seconds: number): string {
  const sign = seconds < 0 ? "−" : "";
  let s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return h > 0 ? `${sign}${h}:${pad(m)}:${pad(s)}` : `${sign}${m}:${pad(s)}`;
}
