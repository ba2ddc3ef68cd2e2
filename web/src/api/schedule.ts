/** `/api/v1/jobs/{id}/schedule` (server/api/schedule.py): next runs, dependencies, trigger URL. */
import { get } from "./client";
import type { Scheduling } from "./jobs";

export interface JobRef {
  job_id: string;
  job_name: string | null;
}

export interface JobSchedule {
  job_id: string;
  scheduling: Required<Pick<Scheduling, "timezone" | "overlap" | "missed_runs">> & Scheduling;
  retry_policy: { max_retries: number; delay_seconds: number } | null;
  next_runs: string[];
  last_due_at: string | null;
  trigger_url: string;
  depends_on: JobRef[];
  downstream: JobRef[];
  waiting: string | null;
  next_retry_at: string | null;
}

export const getSchedule = (jobId: string, count = 5) => get<JobSchedule>(`/jobs/${jobId}/schedule`, { count });
