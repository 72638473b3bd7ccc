// A small dictionary: Chinese by default, English switchable. Dates and
// numbers are shown in the city's zone whatever the browser's zone is.

export const CITY_ZONE = "Asia/Shanghai";
export type Lang = "zh" | "en";

const zh = {
  appTitle: "平安 · 城市运行中心",
  loginTitle: "登录",
  username: "用户名",
  password: "密码",
  signIn: "登录",
  signingIn: "正在登录…",
  logout: "退出",
  language: "语言",
  viewMap: "地图",
  viewAudit: "审计日志",
  layers: "图层",
  orgLevels: "行政边界",
  district: "区",
  subdistrict: "街道",
  community: "社区",
  grid: "网格",
  roads: "道路",
  sites: "重点场所",
  incidents: "事件（聚合点）",
  heat: "热力图",
  hotspots: "热点（Gi*）",
  emerging: "新兴热点（近12周）",
  legendEmerging: "新兴热点类别",
  timeWindow: "时间范围",
  last7: "近7天",
  last28: "近28天",
  last90: "近90天",
  details: "详情",
  close: "关闭",
  clickHint: "点击地图上的要素查看详情。",
  incidentsShown: "显示事件 {n} 起",
  incidentsCapped: "（已达上限，请放大地图）",
  legendHeat: "热力（事件密度）",
  legendHotspots: "热点分类",
  hot99: "热点 99%",
  hot95: "热点 95%",
  hot90: "热点 90%",
  cold90: "冷点 90%",
  cold95: "冷点 95%",
  cold99: "冷点 99%",
  notSignificant: "不显著",
  loading: "加载中…",
  loadFailed: "加载失败：{detail}",
  orgUnit: "行政单元",
  site: "重点场所",
  incident: "事件",
  hotspotCell: "热点单元",
  emergingCell: "新兴热点单元",
  cluster: "事件聚合",
  road: "道路",
  count: "数量",
  auditTitle: "审计日志",
  verifyChain: "校验哈希链",
  verifying: "正在校验…",
  chainOk: "哈希链完整：已校验 {n} 条记录。",
  chainBroken: "哈希链断裂：第 {id} 条 — {reason}",
  loadMore: "加载更多",
  colId: "编号",
  colAt: "时间",
  colActor: "操作者",
  colAction: "操作",
  colObject: "对象",
  colHash: "哈希",
  noEntries: "没有记录。",
  signedInAs: "当前用户：{name}",
  skipToMap: "跳到地图",
  mapLabel: "城市地图",
};

export type Key = keyof typeof zh;

const en: Record<Key, string> = {
  appTitle: "Pingan · City Operations",
  loginTitle: "Sign in",
  username: "Username",
  password: "Password",
  signIn: "Sign in",
  signingIn: "Signing in…",
  logout: "Sign out",
  language: "Language",
  viewMap: "Map",
  viewAudit: "Audit log",
  layers: "Layers",
  orgLevels: "Boundaries",
  district: "Districts",
  subdistrict: "Subdistricts",
  community: "Communities",
  grid: "Grids",
  roads: "Roads",
  sites: "Key sites",
  incidents: "Incidents (clustered)",
  heat: "Heat map",
  hotspots: "Hotspots (Gi*)",
  emerging: "Emerging hotspots (12 weeks)",
  legendEmerging: "Emerging hotspot categories",
  timeWindow: "Time window",
  last7: "Last 7 days",
  last28: "Last 28 days",
  last90: "Last 90 days",
  details: "Details",
  close: "Close",
  clickHint: "Click a feature on the map to see its details.",
  incidentsShown: "{n} incidents shown",
  incidentsCapped: " (capped: zoom in)",
  legendHeat: "Heat (incident density)",
  legendHotspots: "Hotspot classes",
  hot99: "Hot 99%",
  hot95: "Hot 95%",
  hot90: "Hot 90%",
  cold90: "Cold 90%",
  cold95: "Cold 95%",
  cold99: "Cold 99%",
  notSignificant: "Not significant",
  loading: "Loading…",
  loadFailed: "Could not load: {detail}",
  orgUnit: "Org unit",
  site: "Key site",
  incident: "Incident",
  hotspotCell: "Hotspot cell",
  emergingCell: "Emerging hotspot cell",
  cluster: "Incident cluster",
  road: "Road",
  count: "Count",
  auditTitle: "Audit log",
  verifyChain: "Verify chain",
  verifying: "Verifying…",
  chainOk: "Chain intact: {n} entries checked.",
  chainBroken: "Chain broken at entry {id}: {reason}",
  loadMore: "Load more",
  colId: "ID",
  colAt: "Time",
  colActor: "Actor",
  colAction: "Action",
  colObject: "Object",
  colHash: "Hash",
  noEntries: "No entries.",
  signedInAs: "Signed in as {name}",
  skipToMap: "Skip to map",
  mapLabel: "City map",
};

const dictionaries: Record<Lang, Record<Key, string>> = { zh, en };
const LANG_KEY = "pingan.lang";
let current: Lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
const listeners: Array<() => void> = [];

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  applyTranslations(document.body);
  for (const listener of listeners) listener();
}

export function onLangChange(listener: () => void): void {
  listeners.push(listener);
}

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  let text = dictionaries[current][key];
  for (const [name, value] of Object.entries(vars)) {
    text = text.replace(`{${name}}`, typeof value === "number" ? formatNumber(value) : value);
  }
  return text;
}

/** Fill every element marked data-i18n (text) or data-i18n-label (aria-label). */
export function applyTranslations(root: ParentNode): void {
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n as Key);
  }
  for (const el of root.querySelectorAll<HTMLElement>("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel as Key));
  }
}

// Emerging hotspot categories (analytics/emerging.py), by their English name.
const EMERGING_ZH: Record<string, string> = {
  "new hot spot": "新增热点", "consecutive hot spot": "连续热点",
  "intensifying hot spot": "加剧热点", "persistent hot spot": "持续热点",
  "diminishing hot spot": "减弱热点", "sporadic hot spot": "零星热点",
  "oscillating hot spot": "振荡热点", "historical hot spot": "历史热点",
  "new cold spot": "新增冷点", "consecutive cold spot": "连续冷点",
  "intensifying cold spot": "加剧冷点", "persistent cold spot": "持续冷点",
  "diminishing cold spot": "减弱冷点", "sporadic cold spot": "零星冷点",
  "oscillating cold spot": "振荡冷点", "historical cold spot": "历史冷点",
  "no pattern": "无模式",
};

export function emergingName(name: string): string {
  if (current === "zh") return EMERGING_ZH[name] ?? name;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

// Names of the properties shown in the detail panel; others are shown as they are.
const FIELDS: Record<Lang, Record<string, string>> = {
  zh: {
    id: "编号", code: "编码", name: "名称", name_zh: "中文名", name_en: "英文名",
    level: "层级", population: "人口", households: "户数", kind: "类型",
    protection_level: "防护等级", grid_id: "网格", type: "事件类型", occurred_at: "发生时间",
    severity: "严重程度", status: "状态", summary: "摘要", count: "事件数", class: "分类",
    label: "标签", category: "类别", category_name: "类别名称", trend_z: "趋势 z 值",
    trend_p: "趋势 p 值", hot_steps: "热点周数", cold_steps: "冷点周数", last_z: "最近 z 值",
    z: "z 值", p: "p 值", p_sim: "模拟 p 值", g: "G 值", oneway: "单行",
  },
  en: {
    id: "ID", code: "Code", name: "Name", name_zh: "Name (Chinese)", name_en: "Name (English)",
    level: "Level", population: "Population", households: "Households", kind: "Kind",
    protection_level: "Protection level", grid_id: "Grid", type: "Type",
    occurred_at: "Occurred", severity: "Severity", status: "Status", summary: "Summary",
    count: "Incidents", class: "Class", label: "Label", category: "Category",
    category_name: "Category name", trend_z: "Trend z", trend_p: "Trend p",
    hot_steps: "Hot steps", cold_steps: "Cold steps", last_z: "Last z", z: "z-score", p: "p-value",
    p_sim: "Simulated p", g: "G", oneway: "One-way",
  },
};

export function fieldLabel(name: string): string {
  return FIELDS[current][name] ?? name;
}

function locale(): string {
  return current === "zh" ? "zh-CN" : "en-GB";
}

export function formatNumber(value: number): string {
  // Small values (p-values) keep two significant digits instead of rounding to 0.
  const small = value !== 0 && Math.abs(value) < 0.01;
  const options = small ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 2 };
  return new Intl.NumberFormat(locale(), options).format(value);
}

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    timeZone: CITY_ZONE,
    dateStyle: "medium",
    timeStyle: "short",
  }).format(date);
}

/** Today's date in the city's zone, as YYYY-MM-DD. */
export function cityToday(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: CITY_ZONE }).format(new Date());
}
