/**
 * Metric points turned into chart series. The server's points are per run (cumulative
 * counters plus rates since the run's previous sample); charts want [time, value] pairs,
 * with a gap between runs so a line does not join two runs across idle time.
 */
import type { MetricPoint } from "../../api/metrics";

/** [epoch ms, value]; a null value breaks the line. */
export type Pair = [number, number | null];

/** `pick` of every point, with a gap (null) where the run changes. */
export function seriesOf(points: MetricPoint[], pick: (point: MetricPoint, previous: MetricPoint | null) => number | null): Pair[] {
  const pairs: Pair[] = [];
  let previous: MetricPoint | null = null;
  for (const point of points) {
    const time = Date.parse(point.time);
    const sameRun = previous !== null && previous.execution_id === point.execution_id;
    if (previous !== null && !sameRun) pairs.push([time - 1, null]);
    pairs.push([time, pick(point, sameRun ? previous : null)]);
    previous = point;
  }
  return pairs;
}

/** Bytes read per second: exact between two samples of a run, else the run's bytes per record × its rate. */
export function bytesPerSecond(point: MetricPoint, previous: MetricPoint | null): number | null {
  if (previous) {
    const seconds = point.elapsed_seconds - previous.elapsed_seconds;
    if (seconds > 0) return Math.max(point.bytes_read - previous.bytes_read, 0) / seconds;
  }
  if (point.records_per_second === null || point.records_read <= 0) return null;
  return point.records_per_second * (point.bytes_read / point.records_read);
}

/** Records a point stands for: what its run read since its previous sample. */
function recordsSince(point: MetricPoint, previous: MetricPoint | null, stepSeconds: number): number {
  if (previous) return Math.max(point.records_read - previous.records_read, 0);
  // The run's first point in range: its rate over at most one slot (it may have started earlier).
  const rate = point.records_per_second ?? 0;
  return Math.min(point.records_read, rate * Math.min(point.elapsed_seconds, stepSeconds));
}

/**
 * Records read per second in `stepSeconds` slots from `start` to `end`, summed over jobs:
 * the dashboard's throughput of the whole server. Every slot is present (0 when idle).
 */
export function bucketThroughput(jobs: MetricPoint[][], start: number, end: number, stepSeconds: number): Pair[] {
  const stepMs = stepSeconds * 1000;
  const first = Math.floor(start / stepMs);
  const last = Math.floor(end / stepMs);
  const sums = new Map<number, number>();
  for (const points of jobs) {
    const previous = new Map<string, MetricPoint>();
    for (const point of points) {
      const slot = Math.floor(Date.parse(point.time) / stepMs);
      const records = recordsSince(point, previous.get(point.execution_id) ?? null, stepSeconds);
      previous.set(point.execution_id, point);
      if (slot < first || slot > last) continue;
      sums.set(slot, (sums.get(slot) ?? 0) + records);
    }
  }
  const pairs: Pair[] = [];
  for (let slot = first; slot <= last; slot += 1) pairs.push([slot * stepMs, (sums.get(slot) ?? 0) / stepSeconds]);
  return pairs;
}

/** True when no pair has a value above zero (a chart with nothing to say). */
export function isFlat(pairs: Pair[]): boolean {
  return !pairs.some(([, value]) => value !== null && value > 0);
}
