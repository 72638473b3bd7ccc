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
  viewAlerts: "预警",
  viewDispatch: "调度台",
  viewCases: "案件",
  viewAnalytics: "分析",
  viewAdmin: "管理",
  alertsTitle: "预警收件箱",
  live: "实时",
  liveHint: "新预警和状态变化会自动出现，无需刷新。",
  alertsNew: "新预警",
  alertsAcknowledged: "已确认",
  noAlerts: "没有预警。",
  observedExpected: "观测 {o} / 期望 {e}",
  area: "区域",
  reason: "理由",
  openArea: "在地图上查看",
  acknowledge: "确认",
  dismiss: "驳回",
  reasonRequired: "驳回需要填写理由。",
  ackIn: "待确认 {t}",
  ackOverdue: "超时 {t}，将升级",
  dispatchTitle: "调度台",
  incoming: "待处置事件",
  noIncoming: "近7天没有待处置事件。",
  severity: "严重程度",
  recommended: "推荐处置力量",
  choose: "选择",
  responder: "处置力量",
  eta: "预计到达",
  distance: "直线距离",
  chooseResponder: "选择 {name}",
  tier: "梯队",
  noCandidates: "没有可用的处置力量。",
  dispatchChosen: "派遣所选",
  dispatchByPlan: "按预案派遣",
  assignments: "派遣记录",
  noAssignments: "尚未派遣。",
  commandLog: "指挥日志",
  respondersLayer: "处置力量位置",
  caseInbox: "案件收件箱",
  inbox_all: "全部",
  inbox_mine: "我的",
  inbox_unit: "本单位",
  inbox_overdue: "已超时",
  inbox_due_today: "今日到期",
  inbox_flagged: "督办",
  onlyOpen: "仅未结案",
  search: "搜索",
  apply: "应用",
  caseNumber: "案件编号",
  caseTitle: "标题",
  category: "类别",
  state: "状态",
  timeLeft: "剩余时间",
  noCases: "没有案件。",
  address: "地址",
  department: "责任部门",
  filedAt: "立案时间",
  rating: "评价",
  showOnMap: "在地图上查看",
  clocks: "时限",
  clock_accept: "受理时限",
  clock_handle: "处置时限",
  clock_verify: "核查时限",
  due: "截止",
  workingLeft: "剩余工作时间 {t}",
  noClocks: "没有计时。",
  actions: "可执行操作",
  timeline: "办理过程",
  attachments: "附件",
  noAttachments: "没有附件。",
  noActions: "案件已办结，没有可执行的操作。",
  field_reason: "理由",
  field_result: "处置结果",
  field_rating: "评分（1–5）",
  fieldRequired: "请填写：{field}",
  upload: "上传",
  attachFile: "附件（JPEG、PNG 或 PDF）",
  chooseFile: "请先选择文件。",
  leftIn: "剩余 {t}",
  overdueBy: "超时 {t}",
  shortcuts: "快捷键",
  shortcutsText: "m 地图 · a 预警 · d 调度台 · c 案件 · j/k 下一个/上一个事件 · r 重新推荐 · Enter 派遣所选 · ? 帮助",
  views: "视图",
  orgTree: "组织架构",
  users: "用户与角色",
  auditLog: "审计日志",
  displayName: "显示名",
  roles: "角色",
  active: "启用",
  grantRole: "授予角色",
  role: "角色",
  orgUnitId: "行政单元编号",
  user: "用户",
  grant: "授予",
  createUser: "新建用户",
  create: "创建",
  saved: "已保存。",
  noPermission: "没有权限查看。",
  pickUnitHint: "在组织架构中点击单元可填入编号。",
  run_hotspots: "热点分析（Gi*）",
  run_emerging: "新兴热点分析",
  run_heat: "核密度热力",
  runAnalysis: "作为任务运行",
  runTitle: "运行分析",
  analysisKind: "分析类型",
  since: "开始日期",
  until: "结束日期（不含）",
  cellSize: "单元大小（米）",
  permutations: "置换次数",
  progress: "进度",
  jobLine: "任务 #{id}：{status}",
  events: "事件数",
  comparePeriods: "两个时段对比",
  period: "时段 {n}",
  periodMap: "时段 {n} 的热点地图",
  compare: "对比",
  periodSummary: "{from} – {to}：事件 {n} 起，热点单元 {hot} 个，冷点单元 {cold} 个",
  spaceTime: "时空回放（近12周热力）",
  play: "播放",
  pause: "暂停",
  week: "周",
  set_acknowledged: "确认收到",
  set_en_route: "出发",
  set_on_scene: "到场",
  set_cleared: "处置完毕",
  set_cancelled: "取消派遣",
  areaIs: "区域：{name}",
  reasonIs: "理由：{reason}",
  viewReports: "报告",
  briefings: "简报归档",
  kind_daily: "日报",
  kind_weekly: "周报",
  kind_monthly: "月报",
  briefingKind: "类型",
  periodLabel: "时段",
  download: "下载",
  noBriefings: "没有简报。",
  openInTab: "在新标签页打开",
  alertChanged: "预警 #{id}：{status}",
  commandMode: "指挥模式：{name}",
  elapsed: "已持续",
  availableByTier: "各梯队可用",
  log_note: "备注",
  log_decision: "决策",
  log_order: "命令",
  log_report: "报告",
  addToLog: "记入指挥日志",
  kind: "类型",
  logText: "内容",
  log_system: "系统",
  openInDispatch: "在调度台打开",
  choice_duplicate: "重复上报",
  choice_invalid: "无效上报",
  choice_1: "1",
  choice_2: "2",
  choice_3: "3",
  choice_4: "4",
  choice_5: "5",
  field_duplicate_of: "重复的案件编号（可选）",
  alertIncidents: "查看区域内事件",
  resolve: "解除",
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
  viewAlerts: "Alerts",
  viewDispatch: "Dispatch",
  viewCases: "Cases",
  viewAnalytics: "Analytics",
  viewAdmin: "Admin",
  alertsTitle: "Alerts inbox",
  live: "Live",
  liveHint: "New alerts and changes appear without reloading.",
  alertsNew: "New",
  alertsAcknowledged: "Acknowledged",
  noAlerts: "No alerts.",
  observedExpected: "observed {o} / expected {e}",
  area: "Area",
  reason: "Reason",
  openArea: "Show area on map",
  acknowledge: "Acknowledge",
  dismiss: "Dismiss",
  reasonRequired: "A reason is required to dismiss.",
  ackIn: "ack due in {t}",
  ackOverdue: "overdue {t}: escalating",
  dispatchTitle: "Dispatch board",
  incoming: "Incoming incidents",
  noIncoming: "No incoming incidents in the last 7 days.",
  severity: "Severity",
  recommended: "Recommended responders",
  choose: "Pick",
  responder: "Responder",
  eta: "ETA",
  distance: "Distance",
  chooseResponder: "Pick {name}",
  tier: "tier",
  noCandidates: "No available responders.",
  dispatchChosen: "Dispatch selected",
  dispatchByPlan: "Dispatch by plan",
  assignments: "Assignments",
  noAssignments: "Nobody dispatched yet.",
  commandLog: "Command log",
  respondersLayer: "Responders",
  caseInbox: "Case inbox",
  inbox_all: "All",
  inbox_mine: "Mine",
  inbox_unit: "My unit",
  inbox_overdue: "Overdue",
  inbox_due_today: "Due today",
  inbox_flagged: "Flagged",
  onlyOpen: "Open only",
  search: "Search",
  apply: "Apply",
  caseNumber: "Number",
  caseTitle: "Title",
  category: "Category",
  state: "State",
  timeLeft: "Time left",
  noCases: "No cases.",
  address: "Address",
  department: "Department",
  filedAt: "Filed",
  rating: "Rating",
  showOnMap: "Show on map",
  clocks: "Clocks",
  clock_accept: "Acceptance",
  clock_handle: "Handling",
  clock_verify: "Verification",
  due: "due",
  workingLeft: "{t} of working time left",
  noClocks: "No clocks.",
  actions: "Actions you can take",
  timeline: "Timeline",
  attachments: "Attachments",
  noAttachments: "No attachments.",
  noActions: "The case is closed: no actions.",
  field_reason: "Reason",
  field_result: "Result",
  field_rating: "Rating (1–5)",
  fieldRequired: "Required: {field}",
  upload: "Upload",
  attachFile: "File (JPEG, PNG or PDF)",
  chooseFile: "Choose a file first.",
  leftIn: "{t} left",
  overdueBy: "overdue by {t}",
  shortcuts: "Keyboard shortcuts",
  shortcutsText: "m map · a alerts · d dispatch · c cases · j/k next/previous incident · r recommend again · Enter dispatch selected · ? help",
  views: "Views",
  orgTree: "Org tree",
  users: "Users and roles",
  auditLog: "Audit log",
  displayName: "Display name",
  roles: "Roles",
  active: "Active",
  grantRole: "Grant a role",
  role: "Role",
  orgUnitId: "Org unit ID",
  user: "User",
  grant: "Grant",
  createUser: "New user",
  create: "Create",
  saved: "Saved.",
  noPermission: "You may not see this.",
  pickUnitHint: "Click a unit in the tree to fill in its ID.",
  run_hotspots: "Hotspots (Gi*)",
  run_emerging: "Emerging hotspots",
  run_heat: "Heat (kernel density)",
  runAnalysis: "Run as a job",
  runTitle: "Run an analysis",
  analysisKind: "Analysis",
  since: "From",
  until: "Until (exclusive)",
  cellSize: "Cell size (m)",
  permutations: "Permutations",
  progress: "Progress",
  jobLine: "Job #{id}: {status}",
  events: "Incidents",
  comparePeriods: "Compare two periods",
  period: "Period {n}",
  periodMap: "Hotspot map of period {n}",
  compare: "Compare",
  periodSummary: "{from} – {to}: {n} incidents, {hot} hot cells, {cold} cold cells",
  spaceTime: "Space-time play-through (heat, last 12 weeks)",
  play: "Play",
  pause: "Pause",
  week: "Week",
  set_acknowledged: "Acknowledged",
  set_en_route: "En route",
  set_on_scene: "On scene",
  set_cleared: "Cleared",
  set_cancelled: "Cancel",
  areaIs: "Area: {name}",
  reasonIs: "Reason: {reason}",
  viewReports: "Reports",
  briefings: "Briefings archive",
  kind_daily: "Daily",
  kind_weekly: "Weekly",
  kind_monthly: "Monthly",
  briefingKind: "Kind",
  periodLabel: "Period",
  download: "Download",
  noBriefings: "No briefings.",
  openInTab: "Open in a new tab",
  alertChanged: "Alert #{id}: {status}",
  commandMode: "Command mode: {name}",
  elapsed: "Elapsed",
  availableByTier: "Available by tier",
  log_note: "Note",
  log_decision: "Decision",
  log_order: "Order",
  log_report: "Report",
  addToLog: "Add to log",
  kind: "Kind",
  logText: "Text",
  log_system: "System",
  openInDispatch: "Open in dispatch board",
  choice_duplicate: "Duplicate",
  choice_invalid: "Invalid",
  choice_1: "1",
  choice_2: "2",
  choice_3: "3",
  choice_4: "4",
  choice_5: "5",
  field_duplicate_of: "Duplicate of case number (optional)",
  alertIncidents: "Incidents in the area",
  resolve: "Resolve",
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
  let text = dictionaries[current][key] ?? key;
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

export function formatDate(iso: string): string {
  const date = new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { timeZone: CITY_ZONE, dateStyle: "medium" }).format(date);
}

/** A span of seconds as "2 d 3 h", "3 h 5 min" or "4 min". */
export function duration(seconds: number): string {
  const minutes = Math.max(0, Math.round(seconds / 60));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const [du, hu, mu] = current === "zh" ? ["天", "小时", "分钟"] : [" d", " h", " min"];
  if (d > 0) return `${d}${du} ${h}${hu}`;
  if (h > 0) return `${h}${hu} ${m}${mu}`;
  return `${m}${mu}`;
}

const METHODS: Record<string, [string, string]> = {
  "scan.space_time_permutation": ["时空重排扫描", "Space-time permutation scan"],
  "ears.c3": ["EARS C3 异常检测", "EARS C3 aberration"],
  "near_repeat": ["近重复", "Near repeat"],
};

export function methodName(method: string): string {
  const names = METHODS[method];
  return names ? names[current === "zh" ? 0 : 1] : method;
}

// States of incidents, assignments, clocks and cases, and dispatch log kinds.
const STATES_ZH: Record<string, string> = {
  reported: "已上报", dispatched: "已派遣", on_scene: "已到场", resolved: "已解决", closed: "已关闭",
  cancelled: "已取消", acknowledged: "已确认", en_route: "途中", cleared: "已完成",
  timed_out: "确认超时", ack_timeout: "确认超时", plan: "预案", supervisor: "通知主管",
  accepted: "已受理", handling: "处置中", suspended: "已挂起", feedback: "已反馈", verified: "已核查",
  evaluated: "已评价", running: "计时中", paused: "已暂停", stopped: "已停止", breached: "已超时",
  new: "新", dismissed: "已驳回", queued: "排队中", done: "完成", failed: "失败",
  draft: "草稿", published: "已发布",
};

export function stateName(state: string): string {
  if (current === "zh") return STATES_ZH[state] ?? state;
  return state.replace(/_/g, " ");
}

const TRANSITIONS_ZH: Record<string, string> = {
  create: "立案", accept: "受理", cancel: "作废", dispatch: "派遣到部门", start: "开始处置",
  suspend: "挂起", resume: "恢复处置", feedback: "反馈结果", reopen: "退回重办", verify: "核查结案",
  evaluate: "评价", comment: "备注", assign: "指派", attachment: "附件", escalation: "升级",
  transition: "流转", created: "立案", clock: "计时",
};
const TRANSITIONS_EN: Record<string, string> = {
  create: "File", accept: "Accept", cancel: "Cancel", dispatch: "Send to department",
  start: "Start handling", suspend: "Suspend", resume: "Resume", feedback: "Report result",
  reopen: "Reopen", verify: "Verify and close", evaluate: "Evaluate", created: "Filed",
};

export function transitionName(name: string): string {
  if (current === "zh") return TRANSITIONS_ZH[name] ?? name;
  return TRANSITIONS_EN[name] ?? name.replace(/_/g, " ");
}
