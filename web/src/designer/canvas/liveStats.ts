/** The live numbers a node shows while its job runs. */
import type { LiveRun, StageStats } from "../types";

/** Per-stage numbers when the engine sends them, else the run's totals on input and output. */
export function statsFor(live: LiveRun | null, path: string, kind: string): StageStats | undefined {
  if (!live) return undefined;
  if (live.stages[path]) return live.stages[path];
  if (Object.keys(live.stages).length) return undefined;
  if (kind === "input") return { recordsOut: live.recordsRead, recordsPerSecond: live.recordsPerSecond };
  if (kind === "output" && path === "output") {
    return { recordsIn: live.recordsWritten, recordsOut: live.recordsWritten, recordsFailed: live.recordsFailed };
  }
  return undefined;
}
