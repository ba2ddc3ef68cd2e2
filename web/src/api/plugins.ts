/** `/api/v1/plugins` (server/api/plugins.py): the palette, the forms' schemas, the switches. */
import { get, post, type Page } from "./client";

export type PluginKind = "input" | "processor" | "output";

export interface PluginSummary {
  kind: PluginKind;
  name: string;
  family: string;
  title: string;
  capabilities: string[];
  source: string;
  enabled: boolean;
  switched_by: string;
}

/** A JSON Schema as pydantic writes it, with FustGo's `x-` UI hints (plugins/spec.py). */
export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  writeOnly?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  examples?: unknown[];
  "x-advanced"?: boolean;
  "x-group"?: string;
  "x-unit"?: string;
  "x-widget"?: string;
  "x-placeholder"?: string;
  [key: string]: unknown;
};

export const listPlugins = (query: { kind?: PluginKind; family?: string; enabled?: boolean } = {}) =>
  get<Page<PluginSummary>>("/plugins", { page_size: 500, ...query });

const schemaCache = new Map<string, Promise<JsonSchema>>();

/** The config schema of a plugin, fetched once per page load. */
export function pluginSchema(kind: PluginKind, name: string): Promise<JsonSchema> {
  const key = `${kind}/${name}`;
  let schema = schemaCache.get(key);
  if (!schema) {
    schema = get<JsonSchema>(`/plugins/${encodeURIComponent(name)}/config-schema`, { kind });
    schema.catch(() => schemaCache.delete(key));
    schemaCache.set(key, schema);
  }
  return schema;
}

export const setPluginEnabled = (kind: PluginKind, name: string, enabled: boolean) =>
  post<PluginSummary>(`/plugins/${encodeURIComponent(name)}/${enabled ? "enable" : "disable"}`, undefined, { kind });
