// The grid worker's phone app: my grid on the map, reports with photo and position
// (queued while offline, sent exactly once), my tasks, closing with a result photo.

import maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import "./styles.css";
import { ApiError, NetworkError, call, login, setToken, token } from "./api";
import { el } from "./dom";
import * as outbox from "./outbox";
import { lang, t, toggleLang } from "./text";

interface Me {
  user_id: number;
  username: string;
  grants: { org_unit_id: number; level: string; permissions: string[] }[];
}
interface Unit {
  id: number;
  code: string;
  name_zh: string;
  name_en: string;
  boundary: GeoJSON.Geometry | null;
}
interface Case {
  id: number;
  number: string;
  state: string;
  title: string;
  lon: number | null;
  lat: number | null;
  handler_id: number | null;
  allowed_transitions: string[];
}
interface Category {
  code: string;
  case_type: string;
  name_zh: string;
  name_en: string;
}
interface Flow {
  transitions: { name: string; required: string[]; label: string }[];
}

const app = document.getElementById("app") as HTMLElement;
let position: [number, number] | null = null;
let map: maplibregl.Map | null = null;

/** GET with a copy kept on the phone, served from it when offline. */
async function cached<T>(path: string): Promise<T> {
  try {
    const fresh = await call<T>(path);
    localStorage.setItem(`pingan.cache:${path}`, JSON.stringify(fresh));
    return fresh;
  } catch (err) {
    const kept = localStorage.getItem(`pingan.cache:${path}`);
    if (err instanceof NetworkError && kept) return JSON.parse(kept) as T;
    throw err;
  }
}

function showNet(): void {
  const net = document.getElementById("net") as HTMLElement;
  net.textContent = navigator.onLine ? t("online") : t("offline");
  net.className = navigator.onLine ? "net on" : "net off";
}

function message(text: string, kind = "info"): void {
  const box = document.getElementById("message");
  if (box) {
    box.textContent = text;
    box.className = `message ${kind}`;
  }
}

function showLogin(): void {
  const user = el("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = el(
    "form",
    { class: "card", "aria-label": t("login") },
    el("label", { for: "username" }, t("username")), user,
    el("label", { for: "password" }, t("password")), pass,
    el("button", { type: "submit", class: "primary" }, t("login")),
    el("p", { id: "message", role: "alert" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await login(user.value, pass.value);
      await showHome();
    } catch {
      message(t("loginFailed"), "error");
    }
  });
  app.replaceChildren(form);
}

async function showHome(): Promise<void> {
  const me = await cached<Me>("/api/v1/auth/me");
  const grant = me.grants.find((g) => g.level === "grid") ?? me.grants[0];
  const unit = grant ? await cached<Unit>(`/api/v1/org/units/${grant.org_unit_id}`) : null;
  const name = unit ? (lang() === "en" ? unit.name_en : unit.name_zh) : "";
  const newReport = el("button", { type: "button", class: "primary", id: "new-report" }, t("newReport"));
  const logout = el("button", { type: "button", class: "link", id: "logout" }, t("logout"));
  app.replaceChildren(
    el("p", { id: "message", role: "status" }),
    el("section", { "aria-label": t("myGrid") }, el("h2", {}, `${t("myGrid")} · ${name}`), el("div", { id: "map" })),
    el("div", { class: "actions" }, newReport, logout),
    el("section", { id: "form-slot" }),
    el("section", { "aria-label": t("queued") }, el("h2", {}, t("queued")), el("ul", { id: "outbox" })),
    el("section", { "aria-label": t("tasks") }, el("h2", {}, t("tasks")), el("ul", { id: "tasks" })),
  );
  newReport.addEventListener("click", () => void showReportForm());
  logout.addEventListener("click", () => {
    setToken(null);
    showLogin();
  });
  drawMap(unit);
  // Keep what the report form needs on the phone, for filing reports offline later.
  await Promise.allSettled([cached("/api/v1/cases/categories"), cached("/api/v1/cases/workflows/grid_event")]);
  await renderOutbox();
  await renderTasks(me);
  if (navigator.onLine) void sendQueued();
}

function drawMap(unit: Unit | null): void {
  map?.remove();
  map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#eef2ee" } }] },
    attributionControl: false,
    center: [0, 0],
    zoom: 1,
  });
  const current = map;
  current.on("load", () => {
    if (unit?.boundary) {
      current.addSource("grid", { type: "geojson", data: { type: "Feature", geometry: unit.boundary, properties: {} } });
      current.addLayer({ id: "grid-fill", type: "fill", source: "grid", paint: { "fill-color": "#198754", "fill-opacity": 0.12 } });
      current.addLayer({ id: "grid-line", type: "line", source: "grid", paint: { "line-color": "#0f5132", "line-width": 2 } });
      const bounds = new maplibregl.LngLatBounds();
      const visit = (c: unknown): void => {
        if (Array.isArray(c) && typeof c[0] === "number") bounds.extend(c as [number, number]);
        else if (Array.isArray(c)) c.forEach(visit);
      };
      visit((unit.boundary as GeoJSON.Polygon | GeoJSON.MultiPolygon).coordinates);
      current.fitBounds(bounds, { padding: 20, duration: 0 });
    }
  });
  current.on("click", (event) => setPosition([event.lngLat.lng, event.lngLat.lat]));
}

let marker: maplibregl.Marker | null = null;

function setPosition(at: [number, number]): void {
  position = at;
  const label = document.getElementById("where");
  if (label) label.textContent = `${at[1].toFixed(5)}, ${at[0].toFixed(5)}`;
  if (map) {
    marker ??= new maplibregl.Marker({ color: "#dc3545" });
    marker.setLngLat(at).addTo(map);
  }
}

async function showReportForm(): Promise<void> {
  const categories = (await cached<Category[]>("/api/v1/cases/categories")).filter(
    (c) => c.case_type === "grid_event",
  );
  const category = el("select", { id: "category", required: true });
  for (const c of categories) {
    category.append(el("option", { value: c.code }, lang() === "en" ? c.name_en : c.name_zh));
  }
  const title = el("input", { id: "summary", maxlength: "200", required: true });
  const details = el("textarea", { id: "details", maxlength: "5000", rows: "3" });
  const photo = el("input", { id: "photo", type: "file", accept: "image/jpeg,image/png", capture: "environment" });
  const gps = el("button", { type: "button", id: "gps" }, t("useGps"));
  const form = el(
    "form",
    { class: "card", id: "report-form", "aria-label": t("newReport") },
    el("label", { for: "category" }, t("category")), category,
    el("label", { for: "summary" }, t("summary")), title,
    el("label", { for: "details" }, t("details")), details,
    el("label", { for: "photo" }, t("photo")), photo,
    el("p", {}, `${t("where")}: `, el("span", { id: "where" }, position ? `${position[1].toFixed(5)}, ${position[0].toFixed(5)}` : "—")),
    el("div", { class: "actions" }, gps, el("span", { class: "hint" }, t("tapMap"))),
    el("div", { class: "actions" },
      el("button", { type: "submit", class: "primary", id: "send" }, t("send")),
      el("button", { type: "button", id: "cancel" }, t("cancel"))),
  );
  gps.addEventListener("click", () =>
    navigator.geolocation.getCurrentPosition(
      (p) => setPosition([p.coords.longitude, p.coords.latitude]),
      (err) => message(err.message, "error"),
      { enableHighAccuracy: true, timeout: 10_000 },
    ),
  );
  form.querySelector("#cancel")?.addEventListener("click", () => form.remove());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!position) {
      message(t("noPosition"), "error");
      return;
    }
    const file = photo.files?.[0];
    await outbox.put({
      key: crypto.randomUUID(),
      body: { category: category.value, title: title.value, description: details.value, lon: position[0], lat: position[1] },
      photo: file,
      photoName: file?.name,
      created: Date.now(),
    });
    form.remove();
    await renderOutbox();
    if (navigator.onLine) void sendQueued();
  });
  document.getElementById("form-slot")?.replaceChildren(form);
}

async function renderOutbox(): Promise<void> {
  const list = document.getElementById("outbox");
  if (!list) return;
  const items = await outbox.all();
  list.replaceChildren(
    ...items.map((i) =>
      el("li", { class: i.error ? "refused" : "queued" }, `${String(i.body.title)} — ${i.error ? `${t("refused")}: ${i.error}` : t("queued")}`),
    ),
  );
}

async function sendQueued(): Promise<void> {
  const sent = await outbox.flush();
  await renderOutbox();
  if (sent > 0) message(`${t("sent")}: ${sent}`);
  if (token() && (await outbox.all()).some((i) => !i.error) && navigator.onLine) {
    // Items left while online: the token may have expired.
    try {
      await call("/api/v1/auth/me");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) message(t("needsLogin"), "error");
    }
  }
}

async function renderTasks(me: Me): Promise<void> {
  const list = document.getElementById("tasks");
  if (!list) return;
  let cases: Case[] = [];
  try {
    cases = (await cached<{ items: Case[] }>("/api/v1/cases?open=true&limit=200")).items;
  } catch {
    return;
  }
  // Mine: sent back to me to verify on site, or handled by me.
  const mine = cases.filter((c) => c.state === "feedback" || c.handler_id === me.user_id);
  if (mine.length === 0) {
    list.replaceChildren(el("li", {}, t("noTasks")));
    return;
  }
  const flow = await cached<Flow>("/api/v1/cases/workflows/grid_event");
  list.replaceChildren(...mine.map((c) => taskItem(c, flow, me)));
}

function taskItem(c: Case, flow: Flow, me: Me): HTMLElement {
  const item = el("li", { class: "task", "data-case": String(c.id) }, el("strong", {}, c.number), ` ${c.title} `, el("em", {}, c.state));
  const photo = el("input", { type: "file", accept: "image/jpeg,image/png", "aria-label": t("resultPhoto"), class: "result-photo" });
  item.append(el("label", {}, `${t("resultPhoto")} `, photo));
  for (const name of c.allowed_transitions) {
    const rule = flow.transitions.find((tr) => tr.name === name);
    if (!rule) continue;
    const inputs = rule.required.map((field) =>
      el("input", { name: field, placeholder: field, "aria-label": field, class: "field" }),
    );
    const go = el("button", { type: "button", class: "primary", "data-transition": name }, rule.label || name);
    go.addEventListener("click", async () => {
      try {
        const file = photo.files?.[0];
        if (file) {
          const form = new FormData();
          form.append("file", file, file.name);
          form.append("purpose", "result");
          await call(`/api/v1/cases/${c.id}/attachments`, { method: "POST", body: form });
        }
        const fields: Record<string, unknown> = {};
        for (const input of inputs) fields[input.name] = input.name === "rating" ? Number(input.value) : input.value;
        await call(`/api/v1/cases/${c.id}/transitions`, { method: "POST", body: JSON.stringify({ transition: name, fields }) });
        message(`${c.number}: ${t("done")}`);
        await renderTasks(me);
      } catch (err) {
        message(err instanceof Error ? err.message : String(err), "error");
      }
    });
    item.append(el("div", { class: "actions" }, ...inputs, go));
  }
  return item;
}

function boot(): void {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  document.title = t("title");
  (document.getElementById("title") as HTMLElement).textContent = t("title");
  const langButton = document.getElementById("lang") as HTMLButtonElement;
  langButton.textContent = lang() === "en" ? "中文" : "EN";
  langButton.onclick = () => {
    toggleLang();
    boot();
  };
  showNet();
  if (token()) void showHome().catch(() => showLogin());
  else showLogin();
}

window.addEventListener("online", () => {
  showNet();
  void sendQueued();
});
window.addEventListener("offline", showNet);
if ("serviceWorker" in navigator) {
  void navigator.serviceWorker.register("/worker/sw.js", { scope: "/worker/" });
}
boot();
