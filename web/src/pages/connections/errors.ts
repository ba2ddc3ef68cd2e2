/** A rejected save or test as the form shows it: messages by field. */
import { ApiError } from "../../api/client";

export interface FormErrors {
  /** Top-level fields: `name`, `type`, `description`. */
  fields: Record<string, string>;
  /** Connection settings, by their path inside `config`. */
  config: Record<string, string>;
}

export function formErrors(error: unknown): FormErrors {
  const found: FormErrors = { fields: {}, config: {} };
  if (!(error instanceof ApiError)) return found;
  const problems = error.details.length ? error.details : [{ field: error.field, message: error.message }];
  for (const problem of problems) {
    if (!problem.field) continue;
    const path = problem.field.replace(/^body\./, "");
    if (path.startsWith("config.")) found.config[path.slice("config.".length)] ??= problem.message;
    else found.fields[path] ??= problem.message;
  }
  return found;
}
