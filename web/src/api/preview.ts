/** `/api/v1/preview/*` (server/api/preview.py, design doc §6.5): rows with statistics, and
 * the source-against-target schema comparison. */
import { post } from "./client";

/** Where the data is: a saved connection or unsaved settings, with a table or a query. */
export interface DataRef {
  connection_id?: string;
  connection?: { type: string; config: Record<string, unknown> };
  job_id?: string;
  config_yaml?: string;
  table?: string;
  sql?: string;
}

export interface SchemaColumn {
  name: string;
  type: string | null;
  declared?: string | null;
  logical?: string | null;
  nullable?: boolean;
  default?: unknown;
  primary_key?: number | null;
  comment?: string | null;
}

export interface TopValue {
  value: unknown;
  count: number;
}

export interface ColumnStats {
  name: string;
  rows: number;
  null_count: number;
  null_ratio: number;
  distinct?: number;
  top_values?: TopValue[];
  min?: unknown;
  max?: unknown;
  min_length?: number;
  max_length?: number;
}

export interface PreviewResult {
  source?: Record<string, unknown>;
  target?: Record<string, unknown>;
  table: { schema?: string; name?: string; kind?: string; rows_estimate?: number | null; comment?: string | null } | null;
  sql: string | null;
  exists: boolean;
  message?: string;
  schema: SchemaColumn[];
  columns: { name: string; type: string }[];
  rows: unknown[][];
  row_count: number;
  rejected: number;
  errors: string[];
  stats: ColumnStats[];
  timed_out: boolean;
  notes: string[];
}

export type CompareStatus = "compatible" | "warning" | "incompatible" | "missing_in_target" | "missing_in_source";

export interface CompareColumn {
  name: string;
  type: string | null;
  logical: string | null;
  nullable: boolean;
}

export interface CompareRow {
  source: CompareColumn | null;
  target: CompareColumn | null;
  match: "name" | "suggested" | null;
  status: CompareStatus;
  messages: string[];
}

export interface CompareResult {
  source: Record<string, unknown>;
  target: Record<string, unknown>;
  target_exists: boolean;
  message?: string;
  columns: CompareRow[];
  counts: Partial<Record<CompareStatus, number>>;
  mapping: Record<string, string>;
}

export const previewSource = (ref: DataRef, limit = 100) =>
  post<PreviewResult>("/preview/source", { ...ref, limit });
export const previewTarget = (ref: DataRef, limit = 100) =>
  post<PreviewResult>("/preview/target", { ...ref, limit });
export const compareSchemas = (source: DataRef, target: DataRef) =>
  post<CompareResult>("/preview/schema", { source, target });

/** The most rows the server reads for a preview (plugins/catalog MAX_PREVIEW_ROWS). */
export const ROW_LIMITS = [20, 100, 500, 1000];
