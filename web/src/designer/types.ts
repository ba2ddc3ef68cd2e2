/** The designer's own shapes: what the canvas, panel and toolbar share besides the graph. */
import type { NodeKind } from "../pipeline/model";

export type Severity = "error" | "warning";

/** One finding about the pipeline, tied to a node (and a field of it) when we know which. */
export interface Problem {
  severity: Severity;
  message: string;
  hint?: string | null;
  /** The document path it came from (`pipeline.processors[0].condition`), when known. */
  path?: string;
  nodeId?: string;
  edgeId?: string;
  /** The field inside the node's config (`write.mode`), for the form. */
  field?: string;
  line?: number | null;
}

export interface NodeStatus {
  errors: Problem[];
  warnings: Problem[];
}

/** Live numbers of one stage, from `job_progress` events. */
export interface StageStats {
  recordsIn?: number;
  recordsOut?: number;
  recordsFailed?: number;
  recordsPerSecond?: number;
}

export interface QueueStats {
  depth: number;
  capacity: number;
}

export interface LiveRun {
  status: string | null;
  executionId: string | null;
  recordsRead: number;
  recordsWritten: number;
  recordsFailed: number;
  recordsPerSecond: number;
  /** Keyed by node path. */
  stages: Record<string, StageStats>;
  queues: Record<string, QueueStats>;
  final: boolean;
  error: string | null;
}

export type DesignerMode = "visual" | "yaml" | "split";

export type Selection =
  | { type: "none" }
  | { type: "node"; id: string }
  | { type: "edge"; id: string };

export interface DraggedPlugin {
  kind: NodeKind;
  name: string;
}

/** The MIME type of a palette item being dragged onto the canvas. */
export const PLUGIN_MIME = "application/x-fustgo-plugin";
