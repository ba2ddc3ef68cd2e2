/** A plugin's config JSON Schema as rows of a field table: one row per property, nested
 * objects (and `$ref`s into `$defs`) as child rows, types spelled the way a reader writes them. */
import type { JsonSchema } from "../../api/plugins";

export interface FieldRow {
  key: string;
  name: string;
  type: string;
  required: boolean;
  /** Undefined when the schema gives no default (not the same as a `null` default). */
  default?: unknown;
  hasDefault: boolean;
  description: string;
  enum?: unknown[];
  secret: boolean;
  advanced: boolean;
  group?: string;
  unit?: string;
  children?: FieldRow[];
}

function deref(schema: JsonSchema, root: JsonSchema, seen: Set<string>): [JsonSchema, Set<string>] {
  if (!schema.$ref) return [schema, seen];
  const name = schema.$ref.replace(/^#\/\$defs\//, "");
  const target = root.$defs?.[name];
  if (!target || seen.has(name)) return [{ ...schema, type: "object", title: name }, seen];
  const { $ref: _ref, ...rest } = schema;
  return deref({ ...target, ...rest }, root, new Set([...seen, name]));
}

/** The members of an anyOf/oneOf other than `null`. */
function variants(schema: JsonSchema): JsonSchema[] {
  return (schema.anyOf ?? schema.oneOf ?? []).filter((item) => item.type !== "null");
}

function isNullable(schema: JsonSchema): boolean {
  return (schema.anyOf ?? schema.oneOf ?? []).some((item) => item.type === "null")
    || (Array.isArray(schema.type) && schema.type.includes("null"));
}

/** `string`, `integer`, `string[]`, `map<string, integer>`, `"a" | "b"`, `Connection`, … */
export function typeName(input: JsonSchema, root: JsonSchema, seen: Set<string> = new Set()): string {
  const [schema] = deref(input, root, seen);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((item) => JSON.stringify(item)).join(" | ");
  const options = variants(schema);
  if (options.length) return [...new Set(options.map((item) => typeName(item, root, seen)))].join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.filter((item) => item !== "null").join(" | ") : schema.type;
  if (type === "array") return schema.items ? `${typeName(schema.items, root, seen)}[]` : "array";
  if (type === "object" || (!type && schema.properties)) {
    if (schema.properties) return schema.title ?? "object";
    if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      return `map<string, ${typeName(schema.additionalProperties, root, seen)}>`;
    }
    return "object";
  }
  if (schema.format === "password") return "secret";
  return type ?? "any";
}

function isSecret(schema: JsonSchema): boolean {
  return schema.format === "password" || schema.writeOnly === true || variants(schema).some(isSecret);
}

/** The child rows of a property: its own properties, or those of each object variant. */
function childrenOf(input: JsonSchema, root: JsonSchema, path: string, seen: Set<string>): FieldRow[] | undefined {
  const [schema, visited] = deref(input, root, seen);
  if (schema.properties) return rows(schema, root, path, visited);
  if (schema.type === "array" && schema.items) {
    const [items, inner] = deref(schema.items, root, visited);
    if (items.properties) return rows(items, root, `${path}[]`, inner);
  }
  const objects = variants(schema).map((item) => deref(item, root, visited)).filter(([item]) => item.properties);
  if (objects.length === 1) return rows(objects[0][0], root, path, objects[0][1]);
  if (objects.length > 1) {
    // A union of objects (a discriminated choice): one group row per variant.
    return objects.map(([item, inner], index) => ({
      key: `${path}|${index}`,
      name: item.title ?? `#${index + 1}`,
      type: "object",
      required: false,
      hasDefault: false,
      description: item.description ?? "",
      secret: false,
      advanced: false,
      children: rows(item, root, `${path}|${index}`, inner),
    }));
  }
  return undefined;
}

/** The field rows of an object schema (a plugin's config schema at the top). */
export function rows(schema: JsonSchema, root: JsonSchema = schema, path = "", seen: Set<string> = new Set()): FieldRow[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const key = path ? `${path}.${name}` : name;
    const [resolved] = deref(property, root, seen);
    const children = childrenOf(property, root, key, seen);
    return {
      key,
      name,
      type: typeName(property, root, seen) + (isNullable(resolved) && !required.has(name) ? "?" : ""),
      required: required.has(name),
      default: resolved.default,
      hasDefault: "default" in resolved,
      description: (resolved.description ?? "").trim(),
      enum: resolved.enum,
      secret: isSecret(resolved),
      advanced: resolved["x-advanced"] === true,
      group: resolved["x-group"],
      unit: resolved["x-unit"],
      ...(children && children.length ? { children } : {}),
    };
  });
}

/** A default as a table cell shows it: nothing when there is none, JSON otherwise. */
export function defaultText(row: Pick<FieldRow, "hasDefault" | "default">): string {
  if (!row.hasDefault) return "";
  return JSON.stringify(row.default);
}
