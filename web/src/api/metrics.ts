/** `/api/v1/metrics` (server/api/metrics.py, server/metrics/queries.py). */
import { get } from "./client";

/** One kept sample of a run: cumulative counters, and rates since the run's previous sample. */
export interface MetricPoint {
  time: string;
  execution_id: string;
  elapsed_seconds: number;
  final: boolean;
  records_read: number;
  records_written: number;
  records_filtered: number;
  records_failed: number;
  bytes_read: number;
  records_per_second: number | null;
  written_per_second: number | null;
  error_rate_percent: number | null;
  batch_latency_ms: number | null;
}

export interface MetricTotals {
  executions: number;
  records_read: number;
  records_written: number;
  records_filtered: number;
  records_failed: number;
  records_per_second: number | null;
  error_rate_percent: number | null;
  batch_latency_ms: number | null;
}

export interface JobMetrics {
  job_id: string;
  start: string;
  end: string;
  step_seconds: number | null;
  points: MetricPoint[];
  totals: MetricTotals;
}

export interface SystemMetrics {
  hostname: string;
  cpu: { percent: number; cores: number; load: number[] | null };
  memory: { total_mb: number; used_mb: number; percent: number };
  disk: { path: string; total_mb: number; free_mb: number; free_percent: number | null };
  process: { rss_mb: number; threads: number; pid: number };
  jobs: { running: number; draining: number; queued: number; max_concurrent: number };
}

export interface WorkerJob {
  job_id: string;
  execution_id: string;
  state: "running" | "draining" | string;
}

export interface Worker {
  worker_id: string;
  hostname: string;
  mode: string;
  status: "online" | "busy" | "offline" | string;
  slots: number;
  queued: number;
  cpu_cores: number;
  memory_mb: number;
  last_heartbeat: string;
  jobs: WorkerJob[];
}

export interface MetricsRange {
  start?: string;
  end?: string;
  /** Seconds per point (the last sample of each slot of each run). */
  step?: number;
}

export const getJobMetrics = (jobId: string, range: MetricsRange = {}, signal?: AbortSignal) =>
  get<JobMetrics>(`/metrics/jobs/${jobId}`, { ...range }, signal);
export const getSystemMetrics = () => get<SystemMetrics>("/metrics/system");
export const getWorkers = () => get<{ items: Worker[] }>("/metrics/workers");
