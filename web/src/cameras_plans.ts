import { getJson, postJson } from "./api";
import { km, numberInput, pickRow, problem, select, table, type Unit } from "./cameras_api";
import type { CamerasContext } from "./cameras";
import { button, el, field } from "./dom";
import { formatDateTime, formatNumber, lang, t, type Key } from "./i18n";
import { JobPoller, jobStatusBox, showJob, showJobError, type Job } from "./jobs";
import { unitName } from "./names";

interface Site {
  order: number;
  lon: number;
  lat: number;
  district_id: number | null;
  gain_weight: number;
  gain_m: number;
}

interface Plan {
  id: number;
  name: string;
  method: string;
  created_at: string;
  params: Record<string, unknown>;
  result: {
    method?: string;
    objective?: number;
    candidates?: number;
    greedy_gap?: number;
    requirements?: string[];
    requirements_met?: boolean[];
    sites?: Site[];
  };
}

const METHODS = ["greedy", "exact", "both"] as const;

interface PlanParams {
  name: string;
  sites: number;
  method: string;
  range_m: number;
  site_min_share: number;
  backup_level: number;
  district_budget: Record<string, number>;
}

/** Placement planning: run a plan as a job, then its sites in order, on the map and as files. */
export class PlanTab {
  readonly root = el("div", "cam-plans");
  private plans: Plan[] = [];
  private picked: Plan | null = null;
  private pickedSite: number | null = null;
  private districts: Unit[] = [];
  private readonly jobs = new JobPoller((job) => this.jobChanged(job));
  private error = "";
  private loaded = false;
  /** What the form was last run with: it keeps its values when the screen redraws. */
  private params: PlanParams | null = null;

  constructor(private readonly ctx: CamerasContext) {}

  async open(): Promise<void> {
    if (!this.loaded) {
      this.loaded = true;
      this.districts = await getJson<{ items: Unit[] }>("/api/v1/org/units", { level: "district", limit: 1000 })
        .then((p) => p.items)
        .catch(() => []);
      await this.loadPlans(null);
    }
    this.render();
    this.jobs.resume();
  }

  close(): void {
    this.jobs.stop();
  }

  private async loadPlans(pick: number | null): Promise<void> {
    try {
      this.plans = await getJson<Plan[]>("/api/v1/cameras/plans");
      const id = pick ?? this.picked?.id ?? this.plans[0]?.id ?? null;
      this.picked = this.plans.find((p) => p.id === id) ?? null;
      this.error = "";
    } catch (exc) {
      this.error = problem(exc);
    }
    if (this.picked) this.drawOnMap(this.picked.id);
  }

  private drawOnMap(planId: number): void {
    const sites = this.plans.find((p) => p.id === planId)?.result.sites ?? [];
    if (sites.length > 0) {
      void this.ctx.cityMap.fitTo({
        type: "FeatureCollection",
        features: sites.map((s) => ({
          type: "Feature",
          geometry: { type: "Point", coordinates: [s.lon, s.lat] },
          properties: {},
        })),
      });
    }
    this.ctx.cityMap.cameraData.planId = planId;
    this.ctx.cityMap.cameraData.selectSite(this.pickedSite);
    void this.ctx.cityMap.refresh("planned-sites");
    this.ctx.showLayer("planned-sites");
  }

  render(): void {
    this.root.innerHTML = "";
    if (this.ctx.can("cameras:write")) this.root.append(this.runForm());
    if (this.error) this.root.append(el("p", "error", this.error));
    this.root.append(this.planBox());
  }

  private runForm(): HTMLFormElement {
    const form = el("form", "panel-box run-form cam-plan-form") as HTMLFormElement;
    const last = this.params;
    const name = document.createElement("input");
    name.maxLength = 200;
    name.value = last?.name ?? t("camTabPlan");
    const sites = numberInput(last?.sites ?? 20, 1, 10000);
    const method = select(
      "cam-plan-method",
      "camPlanMethod",
      METHODS.map((m): [string, string] => [m, t(`method_${m}` as Key)]),
      last?.method ?? "greedy",
    );
    const range = numberInput(last?.range_m ?? 40, 1, 500);
    const minShare = numberInput(last?.site_min_share ?? 0, 0, 1, "0.05");
    const backup = numberInput(last?.backup_level ?? 1, 0, 3);
    const budget = el("fieldset", "cam-budget");
    budget.append(el("legend", "", t("camPlanBudget")));
    const caps = this.districts.map((d) => {
      const input = numberInput(0, 0, 10000);
      input.value = String(last?.district_budget[String(d.id)] ?? "");
      budget.append(field(`cam-budget-${d.id}`, `${d.code} ${lang() === "zh" ? d.name_zh : d.name_en}`, input));
      return { id: d.id, input };
    });
    const submit = button(t("camPlanSubmit"));
    submit.type = "submit";
    const status = jobStatusBox("cam-plan-status");
    form.append(
      el("h3", "", t("camPlanRun")),
      field("cam-plan-name", t("camPlanName"), name),
      field("cam-plan-sites", t("camPlanSites"), sites),
      method.wrap,
      field("cam-plan-range", t("camPlanRange"), range),
      field("cam-plan-minshare", t("camPlanMinShare"), minShare),
      field("cam-plan-backup", t("camPlanBackup"), backup),
      budget,
      submit,
      status,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const districtBudget: Record<string, number> = {};
      for (const c of caps) if (c.input.value !== "") districtBudget[String(c.id)] = Number(c.input.value);
      this.params = {
        name: name.value || "plan",
        sites: Number(sites.value),
        method: method.control.value,
        range_m: Number(range.value),
        site_min_share: Number(minShare.value),
        backup_level: Number(backup.value),
        district_budget: districtBudget,
      };
      void this.submit(this.params);
    });
    window.setTimeout(() => this.renderJob(), 0);
    return form;
  }

  private async submit(body: PlanParams): Promise<void> {
    try {
      const queued = await postJson<{ id: number; status_url: string }>("/api/v1/cameras/plans", body);
      const job = await getJson<Job>(queued.status_url);
      this.error = "";
      this.jobs.follow(job);
    } catch (exc) {
      this.jobs.clear();
      showJobError(this.root.querySelector("#cam-plan-status") as HTMLElement, problem(exc));
    }
  }

  private jobChanged(job: Job): void {
    this.renderJob();
    if (job.status === "succeeded") {
      const planId = Number(job.result?.plan_id);
      void this.loadPlans(Number.isFinite(planId) ? planId : null).then(() => this.render());
    }
  }

  private renderJob(): void {
    const status = this.root.querySelector("#cam-plan-status") as HTMLElement | null;
    const j = this.jobs.job;
    if (status && j) showJob(status, j, planNote(j));
  }

  private planBox(): HTMLElement {
    const box = el("section", "cam-section cam-plan");
    box.append(el("h3", "", t("camPlans")));
    if (this.plans.length === 0) {
      box.append(el("p", "meta", t("camNoPlans")));
      return box;
    }
    const pick = select(
      "cam-plan-pick",
      "camPlanPick",
      this.plans.map((p): [string, string] => [String(p.id), `#${p.id} ${p.name} · ${formatDateTime(p.created_at)}`]),
      String(this.picked?.id ?? ""),
    );
    pick.control.addEventListener("change", () => {
      this.picked = this.plans.find((p) => String(p.id) === pick.control.value) ?? null;
      this.pickedSite = null;
      if (this.picked) this.drawOnMap(this.picked.id);
      this.render();
    });
    box.append(pick.wrap);
    const plan = this.picked;
    if (!plan) return box;
    box.dataset.plan = String(plan.id);
    const r = plan.result;
    const sites = r.sites ?? [];
    const summary = el("p", "cam-plan-summary");
    summary.textContent = t("camPlanSummary", {
      method: t(`method_${r.method ?? plan.method}` as Key),
      n: sites.length,
      objective: formatNumber(Math.round(r.objective ?? 0)),
      candidates: r.candidates ?? 0,
    });
    box.append(summary);
    if (r.greedy_gap !== undefined) {
      box.append(el("p", "meta", t("camPlanGap", { gap: `${formatNumber(r.greedy_gap * 100)}%` })));
    }
    const reqs = r.requirements_met ?? [];
    if (reqs.length > 0) {
      box.append(el("p", "meta", t("camPlanReqs", { met: reqs.filter(Boolean).length, n: reqs.length })));
    }
    const downloads = el("div", "actions");
    for (const [ext, label] of [["geojson", "camDownloadGeoJson"], ["csv", "camDownloadCsv"]] as const) {
      const a = document.createElement("a");
      a.href = `/api/v1/cameras/plans/${plan.id}/sites.${ext}`;
      a.download = `plan-${plan.id}-sites.${ext}`;
      a.className = "download";
      a.textContent = t(label);
      downloads.append(a);
    }
    box.append(downloads);
    const total = sites.reduce((sum, s) => sum + s.gain_m, 0);
    const { table: tbl, body } = table(
      "camPlanSitesTable",
      ["camColOrder", "camColDistrict", "camColGainM", "camColGainW"],
      "cam-sites-table",
    );
    for (const s of sites) {
      const row = pickRow(
        body,
        `${t("plannedSite")} ${s.order}`,
        [
          String(s.order),
          s.district_id === null ? "—" : `#${s.district_id}`,
          formatNumber(s.gain_m),
          formatNumber(s.gain_weight),
        ],
        () => this.pickSite(s),
      );
      row.dataset.order = String(s.order);
      if (this.pickedSite === s.order) row.classList.add("selected");
      const cell = row.cells[1];
      if (s.district_id !== null) void unitName(s.district_id).then((n) => (cell.textContent = n));
    }
    const foot = tbl.createTFoot().insertRow();
    foot.insertCell().textContent = "Σ";
    foot.insertCell();
    foot.insertCell().textContent = `${km(total)} km`;
    foot.insertCell();
    const wrap = el("div", "table-wrap");
    wrap.append(tbl);
    box.append(el("h4", "", t("camPlanSitesTable")), wrap);
    return box;
  }

  /** Show one planned site on the map (and select it in the layer and the table). */
  pickSite(site: Site | number): void {
    const s = typeof site === "number" ? this.picked?.result.sites?.find((x) => x.order === site) : site;
    if (!s) return;
    this.pickedSite = s.order;
    this.ctx.cityMap.cameraData.selectSite(s.order);
    this.ctx.flyTo(s.lon, s.lat, { order: s.order, kind: "plannedSite" });
    for (const row of this.root.querySelectorAll<HTMLElement>("tr[data-order]")) {
      row.classList.toggle("selected", row.dataset.order === String(s.order));
    }
  }
}

/** What the plan's job has done so far, in the reader's language (the job's own message is English). */
function planNote(job: Job): string {
  if (job.error) return job.error;
  const sites = job.result?.sites;
  if (job.status === "succeeded" && typeof sites === "number") return t("camPlanJobSites", { n: sites });
  return job.status === "running" ? t("camPlanJobRunning") : "";
}
