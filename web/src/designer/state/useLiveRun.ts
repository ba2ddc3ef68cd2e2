/**
 * The numbers of the job's current run, from its live events: per stage when the engine
 * sends `data.stages` / `data.queues`, else the run's totals.
 */
import { useCallback, useEffect, useState } from "react";
import { listExecutions } from "../../api/jobs";
import { useLiveEvents, type LiveEvent } from "../../api/live";
import type { LiveRun, QueueStats, StageStats } from "../types";

const DONE = new Set(["succeeded", "failed", "stopped", "cancelled"]);
const POLL_MS = 2000;

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

  // Events can be missed (a short run over before the subscription, a dropped socket):
  // the execution's record settles the final status and counts.
  const settled = !run || DONE.has(run.status ?? "");
  useEffect(() => {
    if (!watching || !jobId || settled) return undefined;
    const timer = window.setInterval(() => {
      listExecutions(jobId, { page_size: 1 }).then((page) => {
        const execution = page.items[0];
        if (!execution || !DONE.has(execution.status)) return;
        setRun((current) => (!current || current.executionId !== execution.execution_id ? current : {
          ...current, status: execution.status, executionId: execution.execution_id,
          recordsRead: execution.records_read, recordsWritten: execution.records_written,
          recordsFailed: execution.records_failed, error: execution.error_message, final: true,
        }));
      }, () => undefined);
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [jobId, settled, watching]);

  const start = useCallback((executionId: string | null) => setRun(idleRun(executionId)), []);
  const clear = useCallback(() => setRun(null), []);
  return { run, start, clear, setRun };
}
