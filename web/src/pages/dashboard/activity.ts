/**
 * What the dashboard knows about jobs and runs, loaded in one go: the jobs, the recent runs
 * of the most recently changed ones, and the last hour's throughput of the jobs that ran.
 * Runs come from `GET /executions` (every job's): all of today's and the last hour's, and
 * at least the RECENT latest ones for the recent-runs list.
 */
import dayjs from "dayjs";
import { listAllExecutions, listJobs, type Execution, type JobSummary } from "../../api/jobs";
import { getJobMetrics } from "../../api/metrics";
import { bucketThroughput, type Pair } from "../../components/charts/series";

const RECENT = 20;
const MAX_RUNS = 500;
export const HOUR_MS = 3600_000;
export const STEP_SECONDS = 60;

export interface RunOfJob extends Execution {
  job_name: string;
}

export interface Activity {
  jobs: JobSummary[];
  total: number;
  runs: RunOfJob[];
  throughput: Pair[];
  start: number;
  end: number;
}

const FAILED = new Set(["failed", "error_limit_exceeded", "timed_out"]);
export const isFailed = (status: string) => FAILED.has(status);

export async function loadActivity(): Promise<Activity> {
  const end = Date.now();
  const start = end - HOUR_MS;
  const page = await listJobs({ page_size: 500, sort: "-updated_at" });
  const since = Math.min(start, dayjs().startOf("day").valueOf());
  const [todays, latest] = await Promise.all([
    listAllExecutions({ since: new Date(since).toISOString(), page_size: MAX_RUNS }),
    listAllExecutions({ page_size: RECENT }),
  ]);
  const byId = new Map<string, RunOfJob>();
  for (const run of [...todays.items, ...latest.items]) {
    byId.set(run.execution_id, { ...run, job_name: run.job_name ?? run.job_id });
  }
  const runs = [...byId.values()].sort((a, b) => Date.parse(b.start_time) - Date.parse(a.start_time));
  // Only jobs with a run touching the last hour have samples in it.
  const active = new Set(runs
    .filter((run) => run.end_time === null || Date.parse(run.end_time) >= start)
    .map((run) => run.job_id));
  const series = await Promise.all([...active].map((jobId) =>
    getJobMetrics(jobId, { start: new Date(start).toISOString(), end: new Date(end).toISOString(), step: STEP_SECONDS })
      .then((metrics) => metrics.points)));
  return {
    jobs: page.items, total: page.total, runs,
    throughput: bucketThroughput(series, start, end, STEP_SECONDS), start, end,
  };
}

/** Counts of today's (local day) runs and the records they wrote. */
export function today(runs: RunOfJob[]) {
  const since = dayjs().startOf("day").valueOf();
  const todays = runs.filter((run) => Date.parse(run.start_time) >= since);
  return {
    failed: todays.filter((run) => isFailed(run.status)).length,
    succeeded: todays.filter((run) => run.status === "succeeded").length,
    records: todays.reduce((sum, run) => sum + run.records_written, 0),
  };
}
