/**
 * Reading a plugin's JSON Schema for the generated form: $ref resolution, optional
 * (anyOf-with-null) unwrapping, which widget a field gets, discriminated-union variants,
 * the property groups of the design doc (§4.1), and minimal value updates (a cleared field
 * leaves the value, so the YAML keeps only what the user wrote).
 */
import type { JsonSchema } from "../api/plugins";

export type Widget =
  | "hidden"
  | "sql"
  | "select"
  | "switch"
  | "number"
  | "quantity"
  | "password"
  | "text"
  | "scalar"
  | "tags"
  | "keyvalue"
  | "object"
  | "list"
  | "union"
  | "raw";

export const GROUPS = ["basic", "connection", "query", "processing", "performance", "errors"] as const;
export type Group = (typeof GROUPS)[number];

/** The one table that decides a top-level field's group (x-group naming a group wins). */
const GROUP_OF_KEY: [RegExp, Group][] = [
  [/^(connection|host|port|brokers|servers|url|dsn|auth_token|credentials|tls|sasl)$/, "connection"],
  [/^(query|table|tables|columns|where|split.*|incremental|paths|topics|subjects|queue|stream|sql|select_sql)$/, "query"],
  [/^(write|mode|conflict.*|key_columns|create_table|truncate)$/, "processing"],
  [/^(batch_size|parallelism|fetch|speed|batching|block_size|cache|buffer.*|flush.*|timeout|prefetch|concurrency)$/, "performance"],
  [/^(error.*|on_error|retry|retries|dead_letter)$/, "errors"],
];

export function groupOf(key: string, schema: JsonSchema, kind?: "input" | "processor" | "output"): Group {
  const hinted = schema["x-group"];
  if (typeof hinted === "string" && (GROUPS as readonly string[]).includes(hinted)) return hinted as Group;
  for (const [pattern, group] of GROUP_OF_KEY) if (pattern.test(key)) return group;
  // A processor's own fields are its processing rules.
  return kind === "processor" ? "processing" : "basic";
}

/** Follows `$ref` (to `#/$defs/...` of `root`), merging the referring schema's own keys. */
export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let current: JsonSchema = schema ?? {};
  for (let depth = 0; current.$ref && depth < 20; depth++) {
    const name = current.$ref.replace(/^#\/\$defs\//, "");
    const target = root.$defs?.[name] ?? {};
    const { $ref: _ref, ...own } = current;
    current = { ...target, ...own };
  }
  return current;
}

const isNullSchema = (schema: JsonSchema) => schema.type === "null";

/** Drops the `null` alternative of an optional field; a single remaining alternative is
 *  merged with the field's own keys (title, default, x- hints). `nullable` says it was there. */
export function unwrap(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let current = resolve(schema, root);
  let nullable = false;
  for (let depth = 0; depth < 5; depth++) {
    const options = current.anyOf ?? current.oneOf;
    if (!options || current.discriminator) break;
    const rest = options.filter((option) => !isNullSchema(option));
    if (rest.length !== options.length) nullable = true;
    if (rest.length !== 1) {
      if (rest.length !== options.length) {
        const { anyOf: _a, oneOf: _o, ...own } = current;
        current = { ...own, anyOf: rest };
      }
      break;
    }
    const { anyOf: _a, oneOf: _o, ...own } = current;
    const inner = resolve(rest[0], root);
    current = { ...inner, ...stripUndefined(own), type: inner.type ?? own.type };
  }
  return { schema: current, nullable };
}

function stripUndefined(schema: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(schema).filter(([, value]) => value !== undefined)) as JsonSchema;
}

const typeIs = (schema: JsonSchema, type: string) => schema.type === type || (Array.isArray(schema.type) && schema.type.includes(type));

export interface Variant {
  /** The const properties that select it (`{type: "sql", driver: "sqlite"}`). */
  consts: Record<string, unknown>;
  label: string;
  schema: JsonSchema;
}

/** The leaves of a discriminated union (nested unions flattened), or undefined. */
export function variantsOf(schema: JsonSchema, root: JsonSchema): Variant[] | undefined {
  const options = schema.oneOf ?? schema.anyOf;
  if (!options?.length) return undefined;
  const leaves: Variant[] = [];
  const visit = (option: JsonSchema, inherited: Record<string, unknown>): boolean => {
    const resolved = resolve(option, root);
    const inner = resolved.oneOf ?? resolved.anyOf;
    if (inner && !resolved.properties) return inner.every((item) => visit(item, inherited));
    if (!resolved.properties) return false;
    const consts: Record<string, unknown> = { ...inherited };
    for (const [key, property] of Object.entries(resolved.properties)) {
      const field = resolve(property, root);
      if (field.const !== undefined) consts[key] = field.const;
      else if (field.enum?.length === 1) consts[key] = field.enum[0];
    }
    if (!Object.keys(consts).length) return false;
    leaves.push({ consts, label: Object.values(consts).map(String).join(" / "), schema: resolved });
    return true;
  };
  const ok = options.filter((option) => !isNullSchema(option)).every((option) => visit(option, {}));
  return ok && leaves.length > 1 ? leaves : undefined;
}

/** The variant the value is, by its const properties. */
export function variantOf(variants: Variant[], value: unknown): Variant | undefined {
  if (!isRecord(value)) return undefined;
  return variants.find((variant) => Object.entries(variant.consts).every(([key, constant]) => value[key] === constant));
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isStringArray = (schema: JsonSchema, root: JsonSchema) => {
  if (!typeIs(schema, "array") || !schema.items) return false;
  const items = unwrap(schema.items, root).schema;
  return typeIs(items, "string") || (!!items.enum && items.enum.every((item) => typeof item === "string"));
};

const isScalarSchema = (schema: JsonSchema) =>
  ["string", "integer", "number", "boolean"].some((type) => typeIs(schema, type)) && !schema.properties;

/** For anyOf alternatives that are not a union of objects: the one the value fits, else the
 *  first (a list when there is one: `key: id` and `key: [a, b]` both edit as tags). */
export function pickAlternative(schema: JsonSchema, root: JsonSchema, value: unknown): JsonSchema | undefined {
  const options = (schema.anyOf ?? schema.oneOf)?.map((option) => unwrap(option, root).schema);
  if (!options?.length) return undefined;
  const own = { ...schema, anyOf: undefined, oneOf: undefined };
  const merge = (option: JsonSchema) => ({ ...option, ...stripUndefined(own), type: option.type });
  const fits = (option: JsonSchema) => {
    if (value === undefined || value === null) return false;
    if (Array.isArray(value)) return typeIs(option, "array");
    if (isRecord(value)) return typeIs(option, "object");
    if (typeof value === "string") return typeIs(option, "string");
    if (typeof value === "number") return typeIs(option, "number") || typeIs(option, "integer");
    if (typeof value === "boolean") return typeIs(option, "boolean");
    return false;
  };
  const match = options.find(fits);
  if (match) {
    // A plain string where a list is also allowed still edits as tags.
    if (typeof value === "string" && typeIs(match, "string") && !match.enum) {
      const list = options.find((option) => isStringArray(option, root));
      if (list) return merge(list);
    }
    return merge(match);
  }
  return merge(options.find((option) => typeIs(option, "array")) ?? options[0]);
}

/** Which widget edits `schema` (already unwrapped). */
export function widgetOf(schema: JsonSchema, root: JsonSchema): Widget {
  const widget = schema["x-widget"];
  if (widget === "sql-expression" || widget === "sql") return "sql";
  if (schema.const !== undefined) return "hidden";
  if (schema.enum) return "select";
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    if (variantsOf(schema, root)) return "union";
    const resolved = options.map((option) => unwrap(option, root).schema);
    if (schema["x-unit"] && resolved.some((option) => typeIs(option, "number") || typeIs(option, "integer")) && resolved.some((option) => typeIs(option, "string")))
      return "quantity";
    if (resolved.every(isScalarSchema)) return "scalar";
    return "raw";
  }
  if (typeIs(schema, "boolean")) return "switch";
  if (typeIs(schema, "integer") || typeIs(schema, "number")) return "number";
  if (typeIs(schema, "string")) return schema.writeOnly || schema.format === "password" ? "password" : "text";
  if (typeIs(schema, "array")) {
    if (isStringArray(schema, root)) return "tags";
    const items = unwrap(schema.items ?? {}, root).schema;
    if (items.properties || variantsOf(items, root)) return "list";
    return "raw";
  }
  if (typeIs(schema, "object") || schema.properties) {
    if (schema.properties && Object.keys(schema.properties).length) return "object";
    const extra = schema.additionalProperties;
    if (extra && typeof extra === "object") {
      const values = unwrap(extra, root).schema;
      const scalars = values.anyOf ? values.anyOf.every((option) => isScalarSchema(unwrap(option, root).schema)) : isScalarSchema(values);
      if (scalars) return "keyvalue";
    }
    return "raw";
  }
  return "raw";
}

/** The value with `key` set, or removed when `next` is empty (undefined, "", [], {}). */
export function withKey(value: Record<string, unknown> | undefined, key: string, next: unknown): Record<string, unknown> {
  const result = { ...(value ?? {}) };
  if (isEmpty(next)) delete result[key];
  else result[key] = next;
  return result;
}

export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return false;
}

/** `30` → 30, `"30s"` → "30s": a quantity field takes both. */
export function parseQuantity(text: string): string | number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** A scalar typed as the schema allows: numbers and booleans when the text is one. */
export function parseScalar(text: string, schema: JsonSchema, root: JsonSchema): string | number | boolean | undefined {
  if (text === "") return undefined;
  const options = (schema.anyOf ?? schema.oneOf ?? [schema]).map((option) => unwrap(option, root).schema);
  const allows = (type: string) => options.some((option) => typeIs(option, type));
  if ((allows("integer") || allows("number")) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (allows("boolean") && (text === "true" || text === "false")) return text === "true";
  return text;
}

/** The default shown as a placeholder (never written into the value). */
export function placeholderOf(schema: JsonSchema): string | undefined {
  if (typeof schema["x-placeholder"] === "string") return schema["x-placeholder"];
  const value = schema.default;
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A field's label: the schema's title, else the key in words. */
export function labelOf(key: string, schema: JsonSchema): string {
  if (schema.title && schema.title.toLowerCase().replace(/ /g, "_") === key.toLowerCase()) return schema.title;
  return schema.title && !/^[A-Z][A-Za-z]+$/.test(schema.title) ? schema.title : key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** Dotted path of a child (`write.mode`, `operations[0].op`). */
export const childPath = (parent: string, key: string | number) =>
  typeof key === "number" ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/** Errors for paths at or under `path` exist. */
export const hasErrorsUnder = (errors: Record<string, string> | undefined, path: string) =>
  !!errors && Object.keys(errors).some((key) => key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`));
