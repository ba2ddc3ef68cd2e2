/** `/api/v1/jobs/{id}/logs` (server/api/logs.py): a job's run logs, filtered and paged. */
import { API_BASE, get } from "./client";

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "WARNING" | "ERROR" | "FATAL" | "CRITICAL";

export interface LogEntry {
  timestamp: string;
  level: string;
  service: string;
  job_id: string;
  execution_id: string;
  worker_id?: string | null;
  logger: string;
  message: string;
  error?: string | null;
}

export interface LogPage {
  items: LogEntry[];
  total: number;
  offset: number;
  limit: number;
}

export interface LogFilter {
  /** This level and above. */
  level?: string;
  q?: string;
  since?: string;
  until?: string;
  execution_id?: string;
  offset?: number;
  limit?: number;
}

export const jobLogs = (jobId: string, filter: LogFilter = {}) =>
  get<LogPage>(`/jobs/${jobId}/logs`, { ...filter });

/** The URL of every matching entry as a JSON Lines file (the browser downloads it). */
export function jobLogsDownloadUrl(jobId: string, filter: LogFilter = {}): string {
  const params = new URLSearchParams({ download: "true" });
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== null && value !== "" && key !== "offset" && key !== "limit") {
      params.append(key, String(value));
    }
  }
  return `${API_BASE}/jobs/${jobId}/logs?${params.toString()}`;
}

const RANK: Record<string, number> = { DEBUG: 10, INFO: 20, WARN: 30, WARNING: 30, ERROR: 40, FATAL: 50, CRITICAL: 50 };

/** Whether a live entry passes the level filter the server applies to the history. */
export const levelAtLeast = (level: string, minimum: string | undefined) =>
  !minimum || (RANK[level.toUpperCase()] ?? 0) >= (RANK[minimum.toUpperCase()] ?? 0);
