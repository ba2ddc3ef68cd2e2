/**
 * The condition fields of each alert type, as server/alerts/rules.py defines them (names,
 * defaults, bounds, required). The editor renders these; the server validates again.
 */
import type { AlertCondition, AlertType } from "../../api/alerts";

export type ConditionField = keyof AlertCondition;

export interface FieldSpec {
  name: ConditionField;
  kind: "job" | "number" | "text";
  required?: boolean;
  default?: number;
  min?: number;
  max?: number;
  /** i18n key of the unit shown after the input. */
  unit?: "percent" | "minutes" | "records" | "perSecond";
}

const JOB: FieldSpec = { name: "job_id", kind: "job" };

export const RULE_FIELDS: Record<AlertType, FieldSpec[]> = {
  job_failed: [JOB],
  error_rate: [
    JOB,
    { name: "threshold_percent", kind: "number", default: 5, min: 0.01, max: 100, unit: "percent" },
    { name: "window_minutes", kind: "number", default: 5, min: 0.1, max: 1440, unit: "minutes" },
    { name: "min_records", kind: "number", default: 100, min: 1, unit: "records" },
  ],
  low_throughput: [
    JOB,
    { name: "min_records_per_second", kind: "number", required: true, min: 0.01, unit: "perSecond" },
    { name: "for_minutes", kind: "number", default: 5, min: 0.1, max: 1440, unit: "minutes" },
  ],
  long_run: [JOB, { name: "max_minutes", kind: "number", required: true, min: 0.1, unit: "minutes" }],
  no_run_since: [
    { ...JOB, required: true },
    { name: "minutes", kind: "number", required: true, min: 0.1, unit: "minutes" },
  ],
  disk_space: [
    { name: "path", kind: "text" },
    { name: "min_free_percent", kind: "number", default: 10, min: 0.1, max: 99.9, unit: "percent" },
  ],
};

/** The type's condition with its defaults filled in. */
export function defaultCondition(type: AlertType): AlertCondition {
  const condition: AlertCondition = {};
  for (const field of RULE_FIELDS[type]) {
    if (field.default !== undefined) (condition as Record<string, unknown>)[field.name] = field.default;
  }
  return condition;
}

/** Only the type's fields, without empty ones (the server forbids unknown fields). */
export function cleanCondition(type: AlertType, condition: AlertCondition | undefined): AlertCondition {
  const clean: Record<string, unknown> = {};
  for (const field of RULE_FIELDS[type]) {
    const value = condition?.[field.name];
    if (value === undefined || value === null || value === "") continue;
    clean[field.name] = value;
  }
  return clean as AlertCondition;
}
