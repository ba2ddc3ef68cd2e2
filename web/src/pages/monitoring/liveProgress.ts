/**
 * The live state of running jobs from the server's WebSocket: the last `job_progress` and
 * `metric_update` of each job; a `job_status` calls `onStatus` (lists reload then).
 */
import { useCallback, useRef, useState } from "react";
import { useLiveEvents, type LiveEvent } from "../../api/live";

export interface LiveProgress {
  execution_id: string | null;
  records_read: number;
  records_written: number;
  records_failed: number;
  records_total: number | null;
  fraction_done: number | null;
  records_per_second: number;
  elapsed_seconds: number;
  final: boolean;
  /** The rate over the last interval (metric_update), and when it came (ms). */
  current_rate: number | null;
  rate_at: number;
}

const STALE_MS = 5000;

export function useLiveProgress(onStatus?: (event: LiveEvent) => void) {
  const [progress, setProgress] = useState<Record<string, LiveProgress>>({});
  const statusHandler = useRef(onStatus);
  statusHandler.current = onStatus;

  useLiveEvents("*", (event) => {
    if (event.type === "job_status") {
      statusHandler.current?.(event);
      return;
    }
    if (event.type !== "job_progress" && event.type !== "metric_update") return;
    const data = event.data as Record<string, number | boolean | null>;
    setProgress((current) => {
      const before = current[event.job_id];
      const base: LiveProgress = before && before.execution_id === event.execution_id ? before : {
        execution_id: event.execution_id, records_read: 0, records_written: 0, records_failed: 0,
        records_total: null, fraction_done: null, records_per_second: 0, elapsed_seconds: 0,
        final: false, current_rate: null, rate_at: 0,
      };
      const next: LiveProgress = event.type === "metric_update"
        ? { ...base, current_rate: Number(data.records_per_second ?? 0), rate_at: Date.now() }
        : {
          ...base,
          records_read: Number(data.records_read ?? 0),
          records_written: Number(data.records_written ?? 0),
          records_failed: Number(data.records_failed ?? 0),
          records_total: (data.records_total as number | null) ?? base.records_total,
          fraction_done: data.final ? 1 : (data.fraction_done as number | null) ?? null,
          records_per_second: Number(data.records_per_second ?? base.records_per_second),
          elapsed_seconds: Number(data.elapsed_seconds ?? 0),
          final: Boolean(data.final),
        };
      return { ...current, [event.job_id]: next };
    });
  });

  /** Records read per second now, summed over the jobs whose rate is fresh. */
  const currentThroughput = useCallback(() => {
    const now = Date.now();
    return Object.values(progress)
      .filter((item) => !item.final && item.current_rate !== null && now - item.rate_at < STALE_MS)
      .reduce((sum, item) => sum + (item.current_rate ?? 0), 0);
  }, [progress]);

  return { progress, currentThroughput };
}
