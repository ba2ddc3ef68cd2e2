/** The shape of `POST /jobs/{id}/run-preview` (server/preview/run.py) and where a node's
 *  records are in it. */

export interface Shown {
  records: number;
  truncated?: boolean;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  records_in?: number;
  records_out?: number;
}

export interface RunPreview {
  status?: string;
  error?: string | null;
  seconds?: number;
  input?: Shown & { component: string; errors?: string[]; rejected?: number };
  stages?: (Shown & { component: string })[];
  output?: Shown & { component: string; leaves?: Record<string, Shown> };
}

/** The records at `path`: the input's, a processor's output, an output's (or a branch's). */
export function recordsAt(result: RunPreview, path: string): Shown | null {
  if (path === "input") return result.input ?? null;
  const stage = result.stages?.find((item) => item.component === path);
  if (stage) return stage;
  if (result.output?.component === path) return result.output;
  return result.output?.leaves?.[path] ?? null;
}
