/** The wizard's state and the pipeline YAML it becomes. */
import { stringify } from "yaml";
import type { Scheduling } from "../../../api/jobs";

export interface Endpoint {
  plugin: string;
  /** The plugin's settings without `type`. */
  config: Record<string, unknown>;
  connectionId?: string;
}

export interface FieldRule {
  source: string;
  target: string;
  keep: boolean;
}

export interface ScheduleChoice {
  kind: "manual" | "cron" | "once";
  cron: string;
  timezone: string;
  runAt: string | null;
}

export interface WizardState {
  name: string;
  description: string;
  source: Endpoint;
  target: Endpoint;
  fields: FieldRule[];
  schedule: ScheduleChoice;
}

export const RDB = new Set(["postgresql", "mysql", "mariadb", "tidb", "sqlite"]);
export const FILES = new Set(["csv", "json", "parquet"]);

/** `type` first, then the rest as given (YAML reads better that way). */
const block = (endpoint: Endpoint) => ({ type: endpoint.plugin, ...endpoint.config });

/** The `mapping` processor of the field rules; none when every field passes unchanged. */
export function mappingProcessor(fields: FieldRule[]): Record<string, unknown> | null {
  const renames = Object.fromEntries(fields.filter((f) => f.keep && f.target && f.target !== f.source).map((f) => [f.source, f.target]));
  const drop = fields.filter((f) => !f.keep).map((f) => f.source);
  if (!Object.keys(renames).length && !drop.length) return null;
  return { type: "mapping", ...(Object.keys(renames).length ? { field_mappings: renames } : {}), ...(drop.length ? { drop } : {}) };
}

export function pipelineObject(state: WizardState): Record<string, unknown> {
  const mapping = mappingProcessor(state.fields);
  return {
    name: state.name || "new-job",
    ...(state.description ? { description: state.description } : {}),
    input: block(state.source),
    ...(mapping ? { pipeline: { processors: [mapping] } } : {}),
    output: block(state.target),
  };
}

export const pipelineYaml = (state: WizardState) => stringify(pipelineObject(state), { lineWidth: 0 });

export function schedulingOf(choice: ScheduleChoice): Scheduling | null {
  if (choice.kind === "cron" && choice.cron.trim()) return { cron: choice.cron.trim(), timezone: choice.timezone || "UTC" };
  if (choice.kind === "once" && choice.runAt) return { run_at: choice.runAt, timezone: choice.timezone || "UTC" };
  return null;
}

export function withPath(config: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (!rest.length) {
    const copy = { ...config };
    if (value === undefined || value === "" || (Array.isArray(value) && !value.length)) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const inner = (config[head] as Record<string, unknown> | undefined) ?? {};
  const next = withPath(inner, rest, value);
  const copy = { ...config };
  if (Object.keys(next).length) copy[head] = next;
  else delete copy[head];
  return copy;
}

export function getPath(config: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = config;
  for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
  return current;
}
