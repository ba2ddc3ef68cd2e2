/**
 * The numbers of the job's current run, from its live events: per stage when the engine
 * sends `data.stages` / `data.queues`, else the run's totals.
 */
import { useCallback, useState } from "react";
import { useLiveEvents, type LiveEvent } from "../../api/live";
import type { LiveRun, QueueStats, StageStats } from "../types";

const num = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function stagesOf(value: unknown): Record<string, StageStats> {
  if (!value || typeof value !== "object") return {};
  const out: Record<string, StageStats> = {};
  for (const [path, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    out[path] = {
      recordsIn: num(raw?.records_in), recordsOut: num(raw?.records_out),
      recordsFailed: num(raw?.records_failed), recordsPerSecond: num(raw?.records_per_second),
    };
  }
  return out;
}

function queuesOf(value: unknown): Record<string, QueueStats> {
  if (!value || typeof value !== "object") return {};
  const out: Record<string, QueueStats> = {};
  for (const [path, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const depth = num(raw?.depth);
    const capacity = num(raw?.capacity);
    if (depth !== undefined && capacity) out[path] = { depth, capacity };
  }
  return out;
}

export const idleRun = (executionId: string | null = null, status: string | null = "running"): LiveRun => ({
  status, executionId, recordsRead: 0, recordsWritten: 0, recordsFailed: 0, recordsPerSecond: 0,
  stages: {}, queues: {}, final: false, error: null,
});

/** Watches `jobId` while `watching`; `start` resets the numbers for a new run. */
export function useLiveRun(jobId: string | null, watching: boolean) {
  const [run, setRun] = useState<LiveRun | null>(null);

  const onEvent = useCallback((event: LiveEvent) => {
    const data = event.data;
    if (event.type === "job_progress") {
      setRun((current) => {
        const base = current ?? idleRun(event.execution_id);
        const elapsed = num(data.elapsed_seconds);
        const read = num(data.records_read) ?? base.recordsRead;
        return {
          ...base,
          executionId: event.execution_id ?? base.executionId,
          recordsRead: read,
          recordsWritten: num(data.records_written) ?? base.recordsWritten,
          recordsFailed: num(data.records_failed) ?? base.recordsFailed,
          recordsPerSecond: num(data.records_per_second) ?? (elapsed ? read / elapsed : base.recordsPerSecond),
          stages: data.stages ? stagesOf(data.stages) : base.stages,
          queues: data.queues ? queuesOf(data.queues) : base.queues,
          final: data.final === true || base.final,
        };
      });
    } else if (event.type === "job_status") {
      setRun((current) => {
        const base = current ?? idleRun(event.execution_id);
        const status = (data.execution_status as string | undefined) ?? (data.status as string | undefined) ?? base.status;
        return {
          ...base,
          status,
          executionId: event.execution_id ?? base.executionId,
          recordsRead: num(data.records_read) ?? base.recordsRead,
          recordsWritten: num(data.records_written) ?? base.recordsWritten,
          recordsFailed: num(data.records_failed) ?? base.recordsFailed,
          error: (data.error as string | null | undefined) ?? base.error,
        };
      });
    }
  }, []);

  useLiveEvents(watching ? jobId : null, onEvent);

  const start = useCallback((executionId: string | null) => setRun(idleRun(executionId)), []);
  const clear = useCallback(() => setRun(null), []);
  return { run, start, clear, setRun };
}
