import { getJson } from "./api";
import { el } from "./dom";
import { t, type Key } from "./i18n";

/** A background job as GET /api/v1/jobs/{id} answers it. */
export interface Job {
  id: number;
  kind: string;
  status: string; // queued, running, succeeded, failed (kit/jobs.py JobStatus)
  progress: number;
  message: string;
  result: Record<string, unknown> | null;
  error: string | null;
}

const POLL_MS = 1000;

export function finished(job: Job): boolean {
  return job.status === "succeeded" || job.status === "failed";
}

/** Follows one job at a time: asks for its state every second until it ends. */
export class JobPoller {
  private timer: number | undefined;
  private followed: Job | null = null;

  /** `onChange` gets each state of the job, the first one at once and the last when it ends. */
  constructor(private readonly onChange: (job: Job) => void) {}

  get job(): Job | null {
    return this.followed;
  }

  follow(job: Job): void {
    this.stop();
    this.followed = job;
    this.onChange(job);
    this.resume();
  }

  /** Poll again after `stop` (the screen is shown again), if the job has not ended. */
  resume(): void {
    window.clearTimeout(this.timer);
    const job = this.followed;
    if (!job || finished(job)) return;
    const timer = window.setTimeout(async () => {
      const next = await getJson<Job>(`/api/v1/jobs/${job.id}`).catch(() => job);
      // Stopped, or another job followed, while the answer was on its way.
      if (this.timer !== timer || this.followed !== job) return;
      this.followed = next;
      this.onChange(next);
      this.resume();
    }, POLL_MS);
    this.timer = timer;
  }

  stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Forget the job (it could not be started). */
  clear(): void {
    this.stop();
    this.followed = null;
  }
}

/** The live region a form's job reports into. */
export function jobStatusBox(id: string): HTMLElement {
  const status = el("div", "job-status");
  status.id = id;
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  return status;
}

/** Fill a job's status box: "Job #id: state", a progress bar, and a note under it. */
export function showJob(status: HTMLElement, job: Job, note: string): void {
  status.dataset.state = job.status;
  status.innerHTML = "";
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = job.progress;
  bar.setAttribute("aria-label", t("progress"));
  status.append(
    el("p", "", t("jobLine", { id: String(job.id), status: t(`job_${job.status}` as Key) })),
    bar,
    el("p", "meta", note),
  );
}

/** The job could not be started: the reason in its status box. */
export function showJobError(status: HTMLElement, reason: string): void {
  status.textContent = reason;
  status.dataset.state = "error";
}
