import { AuditView } from "./admin";
import { hasPermission, postJson, type Me } from "./api";
import { applyTranslations, lang, onLangChange, setLang, t, type Lang } from "./i18n";
import { LayerPanel } from "./layerpanel";
import { CityMap, type LayerKey } from "./map/citymap";
import { DetailPanel } from "./panel";
import { windowOf } from "./timewindow";

type View = "map" | "audit";

/** The console after login: top bar, layer panel, map, detail panel, admin. */
export function showShell(root: HTMLElement, me: Me): void {
  const canAudit = hasPermission(me, "audit:read");
  root.innerHTML = `
    <a class="skip" href="#map" data-i18n="skipToMap"></a>
    <header class="topbar">
      <h1 class="brand" data-i18n="appTitle"></h1>
      <nav class="views" aria-label="views">
        <button type="button" data-view="map" aria-pressed="true" data-i18n="viewMap"></button>
        ${canAudit ? '<button type="button" data-view="audit" aria-pressed="false" data-i18n="viewAudit"></button>' : ""}
      </nav>
      <span class="who" id="who"></span>
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
      <aside class="detail-panel" id="detail-panel" aria-live="polite"
             data-i18n-label="details"></aside>
      <section class="admin" id="admin" hidden></section>
    </div>`;
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
  const window0 = windowOf(28);
  const cityMap = new CityMap(mapEl, window0, {
    onDetail: (d) => detail.show(d),
    onStatus: (key, state, note) => {
      if (state === "loaded") loaded.add(key);
      else loaded.delete(key);
      mapEl.dataset.loaded = [...loaded].sort().join(" ");
      panel?.setState(key, state, note);
    },
    onIncidentCount: (n, capped) => panel?.setIncidentCount(n, capped),
    onEmergingCategories: (categories) => panel?.setEmergingCategories(categories),
  });
  // A read-only handle for the browser tests and for debugging in devtools.
  (window as unknown as { pinganMap: unknown }).pinganMap = cityMap.map;
  panel = new LayerPanel(
    root.querySelector("#layer-panel") as HTMLElement,
    cityMap,
    window0,
    (w) => void cityMap.setWindow(w),
  );

  const admin = root.querySelector("#admin") as HTMLElement;
  const audit = canAudit ? new AuditView(admin) : null;
  const workspace = root.querySelector(".workspace") as HTMLElement;
  for (const button of root.querySelectorAll<HTMLButtonElement>("button[data-view]")) {
    button.addEventListener("click", () => {
      const view = button.dataset.view as View;
      workspace.dataset.view = view;
      admin.hidden = view !== "audit";
      for (const b of root.querySelectorAll<HTMLButtonElement>("button[data-view]")) {
        b.setAttribute("aria-pressed", String(b === button));
      }
      if (view === "audit") void audit?.open();
      else cityMap.map.resize();
    });
  }

  const select = root.querySelector("#lang-select") as HTMLSelectElement;
  select.value = lang();
  select.addEventListener("change", () => setLang(select.value as Lang));
  onLangChange(() => {
    renderWho();
    detail.render();
    panel?.refresh();
    audit?.render();
  });

  root.querySelector("#logout")?.addEventListener("click", async () => {
    await postJson("/api/v1/auth/logout", {}).catch(() => undefined);
    location.reload();
  });
}
