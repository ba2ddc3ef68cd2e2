import { describe, expect, it } from "vitest";
import type { MetricPoint } from "../../api/metrics";
import { bucketThroughput, bytesPerSecond, isFlat, seriesOf } from "./series";

function point(time: string, execution: string, elapsed: number, read: number, rate: number | null, bytes = read * 10): MetricPoint {
  return {
    time, execution_id: execution, elapsed_seconds: elapsed, final: false, records_read: read,
    records_written: read, records_filtered: 0, records_failed: 0, bytes_read: bytes,
    records_per_second: rate, written_per_second: rate, error_rate_percent: 0, batch_latency_ms: 5,
  };
}

describe("seriesOf", () => {
  it("breaks the line between runs", () => {
    const pairs = seriesOf([
      point("2026-01-01T00:00:00Z", "a", 1, 10, 10),
      point("2026-01-01T00:00:01Z", "a", 2, 20, 10),
      point("2026-01-01T00:10:00Z", "b", 1, 5, 5),
    ], (p) => p.records_per_second);
    expect(pairs.map(([, v]) => v)).toEqual([10, 10, null, 5]);
  });
});

describe("bytesPerSecond", () => {
  it("is exact between samples of a run and estimated for a run's first", () => {
    const first = point("2026-01-01T00:00:00Z", "a", 2, 100, 50, 1000);
    const second = point("2026-01-01T00:00:01Z", "a", 4, 300, 100, 3000);
    expect(bytesPerSecond(first, null)).toBe(500);
    expect(bytesPerSecond(second, first)).toBe(1000);
  });
});

describe("bucketThroughput", () => {
  it("sums the records of every job per slot and fills idle slots with 0", () => {
    const start = Date.parse("2026-01-01T00:00:00Z");
    const jobA = [point("2026-01-01T00:00:30Z", "a", 0.5, 600, 1200)];
    const jobB = [point("2026-01-01T00:00:40Z", "b", 1, 60, 60), point("2026-01-01T00:01:10Z", "b", 31, 660, 20)];
    const pairs = bucketThroughput([jobA, jobB], start, start + 150_000, 60);
    expect(pairs).toEqual([[start, 11], [start + 60_000, 10], [start + 120_000, 0]]);
    expect(isFlat(pairs)).toBe(false);
    expect(isFlat([[start, 0]])).toBe(true);
  });
});
