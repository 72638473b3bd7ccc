import type { AlertsInbox } from "./alerts";
import { hasPermission, postJson, type Me } from "./api";
import { applyTranslations, lang, onLangChange, setLang, t, type Lang } from "./i18n";
import { LayerPanel } from "./layerpanel";
import { CityMap, type LayerKey } from "./map/citymap";
import { DetailPanel } from "./panel";
import { windowOf } from "./timewindow";

type View = "map" | "alerts" | "dispatch" | "cases" | "analytics" | "cameras" | "reports" | "admin";

interface Screen {
  open(): void | Promise<void>;
  close(): void;
  render(): void;
  handleKey?(key: string): boolean;
  selectIncident?(id: number): Promise<void>;
  onOverlay?(layer: string, properties: Record<string, unknown>): void;
  /** A click on the map's own layers while this screen is open; true when handled. */
  onMapDetail?(kind: string, properties: Record<string, unknown>): boolean;
}

// Views over the map use the right-hand column; the others cover the workspace.
const SIDE_VIEWS = new Set<View>(["map", "alerts", "dispatch", "cameras"]);
const KEYS: Record<string, View> = { m: "map", a: "alerts", d: "dispatch", c: "cases" };

/** The console after login: top bar, layer panel, map, right-hand panels, full screens. */
export function showShell(root: HTMLElement, me: Me): void {
  const can = (p: string): boolean => hasPermission(me, p);
  const views: Array<[View, boolean]> = [
    ["map", true],
    ["alerts", can("incidents:read")],
    ["dispatch", can("dispatch:read")],
    ["cases", can("cases:read")],
    ["analytics", can("incidents:read")],
    ["cameras", can("cameras:read")],
    ["reports", can("reports:read")],
    ["admin", can("audit:read") || can("users:admin")],
  ];
  const label = (v: View): string => `view${v.charAt(0).toUpperCase()}${v.slice(1)}`;
  root.innerHTML = `
    <a class="skip" href="#map" data-i18n="skipToMap"></a>
    <header class="topbar">
      <h1 class="brand" data-i18n="appTitle"></h1>
      <nav class="views" data-i18n-label="views">
        ${views
          .filter(([, ok]) => ok)
          .map(
            ([v]) => `<button type="button" data-view="${v}" aria-pressed="${v === "map"}">
              <span data-i18n="${label(v)}"></span><span class="count" data-count-for="${v}"></span>
            </button>`,
          )
          .join("")}
      </nav>
      <span class="who" id="who"></span>
      <button type="button" id="help" class="icon" aria-haspopup="dialog" data-i18n-label="shortcuts">?</button>
      <label class="lang"><span data-i18n="language"></span>
        <select id="lang-select">
          <option value="zh">中文</option><option value="en">English</option>
        </select>
      </label>
      <button type="button" id="logout" data-i18n="logout"></button>
    </header>
    <div class="workspace" data-view="map">
      <aside class="layer-panel" id="layer-panel" data-i18n-label="layers"></aside>
      <main class="map" id="map" tabindex="0" data-i18n-label="mapLabel" data-loaded=""></main>
      <aside class="detail-panel" id="detail-panel" aria-live="polite" data-i18n-label="details"></aside>
      <aside class="side-panel" id="alerts-panel" data-i18n-label="alertsTitle" hidden></aside>
      <aside class="side-panel" id="dispatch-panel" data-i18n-label="dispatchTitle" hidden></aside>
      <aside class="side-panel" id="cameras-panel" data-i18n-label="camerasTitle" hidden></aside>
      <section class="screen" id="cases-screen" data-i18n-label="viewCases" hidden></section>
      <section class="screen" id="analytics-screen" data-i18n-label="viewAnalytics" hidden></section>
      <section class="screen" id="reports-screen" data-i18n-label="viewReports" hidden></section>
      <section class="screen admin" id="admin" data-i18n-label="viewAdmin" hidden></section>
    </div>
    <dialog id="help-dialog" aria-labelledby="help-title">
      <h2 id="help-title" data-i18n="shortcuts"></h2>
      <p data-i18n="shortcutsText"></p>
      <form method="dialog"><button data-i18n="close"></button></form>
    </dialog>`;
  applyTranslations(root);
  const who = root.querySelector("#who") as HTMLElement;
  const renderWho = (): void => {
    who.textContent = t("signedInAs", { name: me.username });
  };
  renderWho();

  const mapEl = root.querySelector("#map") as HTMLElement;
  const loaded = new Set<LayerKey>();
  const detail = new DetailPanel(root.querySelector("#detail-panel") as HTMLElement);
  let panel: LayerPanel | null = null;
  const screens = new Map<View, Screen>();
  let view: View = "map";
  const window0 = windowOf(28);
  const cityMap = new CityMap(mapEl, window0, {
    onDetail: (d) => {
      if (screens.get(view)?.onMapDetail?.(d.kind, d.properties)) return;
      if (view !== "map") choose("map");
      const id = Number(d.properties.id);
      if (d.kind === "incident" && can("dispatch:read") && Number.isFinite(id)) {
        d.actions = [
          {
            label: "openInDispatch",
            run: () => {
              choose("dispatch");
              void load("dispatch").then((board) => board?.selectIncident?.(id));
            },
          },
        ];
      }
      detail.show(d);
    },
    onStatus: (key, state, note) => {
      if (state === "loaded") loaded.add(key);
      else loaded.delete(key);
      mapEl.dataset.loaded = [...loaded].sort().join(" ");
      panel?.setState(key, state, note);
    },
    onIncidentCount: (n, capped) => panel?.setIncidentCount(n, capped),
    onEmergingCategories: (categories) => panel?.setEmergingCategories(categories),
    onOverlay: (layer, properties) => {
      if (layer === "alert-areas-fill") {
        choose("alerts");
        alerts?.select(Number(properties.alert_id), false);
      } else screens.get(view)?.onOverlay?.(layer, properties);
    },
  });
  // A read-only handle for the browser tests and for debugging in devtools.
  (window as unknown as { pinganMap: unknown }).pinganMap = cityMap.map;
  panel = new LayerPanel(
    root.querySelector("#layer-panel") as HTMLElement,
    cityMap,
    window0,
    (w) => void cityMap.setWindow(w),
  );

  const workspace = root.querySelector(".workspace") as HTMLElement;
  const count = (v: View, n: number): void => {
    const el = root.querySelector<HTMLElement>(`[data-count-for="${v}"]`);
    if (el) el.textContent = n > 0 ? String(n) : "";
  };

  // The alerts inbox starts at once, so the count of new alerts is live on every view.
  let alerts: AlertsInbox | null = null;
  if (can("incidents:read")) {
    void import("./alerts").then(({ AlertsInbox }) => {
      alerts = new AlertsInbox(
        root.querySelector("#alerts-panel") as HTMLElement,
        cityMap,
        (n) => count("alerts", n),
        (area) => {
          // The incidents layer on, the map on the area: a click on one leads to dispatch.
          choose("map");
          const box = root.querySelector<HTMLInputElement>('input[data-layer="incidents"]');
          if (box && !box.checked) box.click();
          void cityMap.fitTo(area);
        },
      );
      screens.set("alerts", {
        open: () => alerts?.show(),
        close: () => alerts?.hide(),
        render: () => alerts?.render(),
      });
      void alerts.start();
    });
  }

  // The other screens load their code when first opened.
  const load = async (v: View): Promise<Screen | null> => {
    const known = screens.get(v);
    if (known) return known;
    let screen: Screen | null = null;
    if (v === "dispatch") {
      const { DispatchBoard } = await import("./dispatch");
      const board = new DispatchBoard(root.querySelector("#dispatch-panel") as HTMLElement, cityMap);
      screen = {
        open: () => board.show(),
        close: () => board.hide(),
        render: () => board.render(),
        handleKey: (key) => board.handleKey(key),
        selectIncident: (id) => board.select(id),
        onOverlay: (layer, props) => board.onOverlay(layer, props),
      };
    } else if (v === "cases") {
      const { CasesView } = await import("./cases");
      const cases = new CasesView(root.querySelector("#cases-screen") as HTMLElement, cityMap, () =>
        choose("map"),
      );
      screen = { open: () => cases.open(), close: () => cases.close(), render: () => cases.render() };
    } else if (v === "analytics") {
      const { AnalyticsView } = await import("./analytics");
      const analytics = new AnalyticsView(root.querySelector("#analytics-screen") as HTMLElement);
      screen = {
        open: () => analytics.open(),
        close: () => analytics.close(),
        render: () => analytics.render(),
      };
    } else if (v === "cameras") {
      const { CamerasView } = await import("./cameras");
      const cameras = new CamerasView(
        root.querySelector("#cameras-panel") as HTMLElement,
        cityMap,
        can,
        (key) => {
          const box = root.querySelector<HTMLInputElement>(`input[data-layer="${key}"]`);
          if (box && !box.checked) box.click();
        },
      );
      screen = {
        open: () => cameras.open(),
        close: () => cameras.close(),
        render: () => cameras.render(),
        onMapDetail: (kind, props) => cameras.onMapDetail(kind, props),
      };
    } else if (v === "reports") {
      const { ReportsView } = await import("./reports");
      const reports = new ReportsView(root.querySelector("#reports-screen") as HTMLElement);
      screen = { open: () => reports.open(), close: () => undefined, render: () => reports.render() };
    } else if (v === "admin") {
      const { AdminView } = await import("./admin");
      const admin = new AdminView(root.querySelector("#admin") as HTMLElement, me);
      screen = { open: () => admin.open(), close: () => undefined, render: () => admin.render() };
    }
    if (screen) screens.set(v, screen);
    return screen;
  };

  const choose = (next: View): void => {
    if (!root.querySelector(`button[data-view="${next}"]`)) return;
    const previous = view;
    if (previous !== next) screens.get(previous)?.close();
    view = next;
    workspace.dataset.view = next;
    for (const section of root.querySelectorAll<HTMLElement>(".side-panel, .screen")) {
      section.hidden = true;
    }
    (root.querySelector("#detail-panel") as HTMLElement).hidden = next !== "map";
    const target: Record<View, string> = {
      map: "#detail-panel",
      alerts: "#alerts-panel",
      dispatch: "#dispatch-panel",
      cases: "#cases-screen",
      analytics: "#analytics-screen",
      cameras: "#cameras-panel",
      reports: "#reports-screen",
      admin: "#admin",
    };
    (root.querySelector(target[next]) as HTMLElement).hidden = false;
    for (const b of root.querySelectorAll<HTMLButtonElement>("button[data-view]")) {
      b.setAttribute("aria-pressed", String(b.dataset.view === next));
    }
    if (SIDE_VIEWS.has(next)) cityMap.map.resize();
    void load(next).then((screen) => {
      if (view === next) void screen?.open();
    });
  };
  for (const b of root.querySelectorAll<HTMLButtonElement>("button[data-view]")) {
    b.addEventListener("click", () => choose(b.dataset.view as View));
  }

  // Shortcuts for dispatchers; never while typing in a field.
  const help = root.querySelector("#help-dialog") as HTMLDialogElement;
  root.querySelector("#help")?.addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (event) => {
    const target = event.target as HTMLElement;
    if (event.ctrlKey || event.metaKey || event.altKey || help.open) return;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    // Enter on a focused button or link is that control's own.
    if (event.key === "Enter" && target.closest("button, a")) return;
    if (event.key === "?") {
      help.showModal();
      event.preventDefault();
      return;
    }
    if (screens.get(view)?.handleKey?.(event.key)) {
      event.preventDefault();
      return;
    }
    const next = KEYS[event.key];
    if (next) {
      choose(next);
      event.preventDefault();
    }
  });

  const select = root.querySelector("#lang-select") as HTMLSelectElement;
  select.value = lang();
  select.addEventListener("change", () => setLang(select.value as Lang));
  onLangChange(() => {
    renderWho();
    detail.render();
    panel?.refresh();
    for (const screen of screens.values()) screen.render();
  });

  root.querySelector("#logout")?.addEventListener("click", async () => {
    await postJson("/api/v1/auth/logout", {}).catch(() => undefined);
    location.reload();
  });
}
