/** `/api/v1/jobs`, `/validate` and run previews (server/api/jobs.py, validate.py, preview.py). */
import { del, get, post, put, type Page } from "./client";

export type JobStatus = "draft" | "ready" | "running" | "paused" | "stopped" | "succeeded" | "failed";

/** A finding about the YAML, as `fustgo validate --format json` prints it. */
export interface Diagnostic {
  level: string;
  severity: "error" | "warning" | "info" | string;
  path: string;
  file: string | null;
  line: number | null;
  column: number | null;
  message: string;
  hint: string | null;
}

export interface ValidationResult {
  file: string;
  ok: boolean;
  diagnostics: Diagnostic[];
  pipeline: Record<string, unknown> | null;
  connections: unknown;
}

export interface JobSummary {
  job_id: string;
  job_name: string;
  job_type: "ETL" | "ELT";
  description: string | null;
  status: JobStatus;
  enabled: boolean;
  priority: number;
  source_type: string | null;
  target_type: string | null;
  created_at: string;
  updated_at: string;
}

export interface Job extends JobSummary {
  config_yaml: string;
  flow_diagram: Record<string, unknown> | null;
  scheduling: Record<string, unknown> | null;
  retry_policy: { max_retries: number; delay_seconds: number } | null;
  diagnostics: Diagnostic[];
  created_by: string | null;
  active_execution_id: string | null;
  next_runs: string[];
}

export interface JobFields {
  job_name?: string;
  job_type?: "ETL" | "ELT";
  description?: string | null;
  config_yaml?: string;
  flow_diagram?: Record<string, unknown> | null;
  scheduling?: Record<string, unknown> | null;
  enabled?: boolean;
  priority?: number;
  retry_policy?: { max_retries: number; delay_seconds: number } | null;
}

export interface Execution {
  execution_id: string;
  job_id: string;
  status: string;
  trigger: string;
  start_time: string;
  end_time: string | null;
  records_read: number;
  records_written: number;
  records_filtered: number;
  records_failed: number;
  bytes_transferred: number;
  error_message: string | null;
  worker_id: string | null;
  summary: Record<string, unknown> | null;
}

export interface JobAction {
  job_id: string;
  status: JobStatus;
  execution_id: string | null;
}

export interface JobQuery {
  page?: number;
  page_size?: number;
  status?: JobStatus;
  job_type?: "ETL" | "ELT";
  source?: string;
  target?: string;
  enabled?: boolean;
  /** Words in the name or description. */
  q?: string;
  /** A field, `-` first for descending (`-updated_at`). */
  sort?: string;
}

export const listJobs = (query: JobQuery = {}) => get<Page<JobSummary>>("/jobs", { ...query });
export const getJob = (jobId: string) => get<Job>(`/jobs/${jobId}`);
export const createJob = (fields: JobFields & { config_yaml: string }) => post<Job>("/jobs", fields);
export const updateJob = (jobId: string, fields: JobFields) => put<Job>(`/jobs/${jobId}`, fields);
export const deleteJob = (jobId: string) => del<void>(`/jobs/${jobId}`);
export const jobAction = (jobId: string, action: "start" | "stop" | "pause" | "resume") =>
  post<JobAction>(`/jobs/${jobId}/${action}`);
export const listExecutions = (jobId: string, query: { page?: number; page_size?: number } = {}) =>
  get<Page<Execution>>(`/jobs/${jobId}/executions`, query);

/** Checks a pipeline's YAML as `fustgo validate` does; never throws for a bad pipeline. */
export const validateYaml = (configYaml: string) => post<ValidationResult>("/validate", { config_yaml: configYaml });

/** The job statuses from which each action is allowed (store/lifecycle.py `ACTIONS`). */
export const ACTION_FROM: Record<"start" | "stop" | "pause" | "resume" | "edit" | "delete", JobStatus[]> = {
  start: ["ready", "succeeded", "failed", "stopped"],
  stop: ["running", "paused"],
  pause: ["running"],
  resume: ["paused"],
  edit: ["draft", "ready", "succeeded", "failed", "stopped"],
  delete: ["draft", "ready", "succeeded", "failed", "stopped"],
};

export const canDo = (action: keyof typeof ACTION_FROM, status: JobStatus) => ACTION_FROM[action].includes(status);

/** A job's `scheduling` as the server stores it (scheduler/settings.py `Scheduling`). */
export interface Scheduling {
  cron?: string | null;
  timezone?: string;
  run_at?: string | null;
  depends_on?: string[];
  overlap?: "serial" | "discard" | "cancel";
  timeout_seconds?: number | null;
  missed_runs?: "run_once" | "skip";
}

/** Every job's runs, newest first, each with its job's name (`GET /executions`). */
export const listAllExecutions = (query: { page?: number; page_size?: number; status?: string; since?: string } = {}) =>
  get<Page<Execution & { job_name: string | null }>>("/executions", query);

/** An unsaved pipeline on its first records, writing nothing (`POST /preview/run`); a YAML
 * with errors is refused (422) with the diagnostics in the error's details. */
export const previewDraft = (configYaml: string, limit = 20) =>
  post<Record<string, unknown>>("/preview/run", { config_yaml: configYaml, limit });
