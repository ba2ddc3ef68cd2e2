/** `/api/v1/connections` (server/api/connections.py): saved data sources and their test. */
import { del, get, post, put, type Page } from "./client";
import { pluginSchema, type JsonSchema } from "./plugins";

/** The families the server has a catalog for (plugins/catalog/families.py); `type` must be one. */
export const CONNECTION_TYPES = [
  { value: "postgresql", label: "PostgreSQL" },
  { value: "mysql", label: "MySQL" },
  { value: "mariadb", label: "MariaDB" },
  { value: "tidb", label: "TiDB" },
  { value: "sqlite", label: "SQLite" },
] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number]["value"];

/** What the server sends in place of a saved secret; sent back, it keeps the stored value. */
export const MASK = "********";

export type ConnectionConfig = Record<string, unknown>;

export interface Connection {
  connection_id: string;
  name: string;
  type: string;
  description: string | null;
  config: ConnectionConfig;
  created_at: string;
  updated_at: string;
}

export interface ConnectionInput {
  name: string;
  type: string;
  description?: string | null;
  config: ConnectionConfig;
}

/** The server's answer to a test: `ok: false` with `error` is an answer, not a failed request. */
export interface ConnectionTest {
  ok: boolean;
  error: string | null;
  server: {
    product?: string;
    version?: string;
    address?: string;
    user?: string;
    read_only?: boolean;
    connect_ms?: number;
    latency_ms?: number;
    [key: string]: unknown;
  } | null;
}

export const listConnections = (query: { type?: string; page?: number; page_size?: number } = {}) =>
  get<Page<Connection>>("/connections", { page_size: 500, ...query });
export const createConnection = (body: ConnectionInput) => post<Connection>("/connections", body);
export const updateConnection = (id: string, body: Partial<Omit<ConnectionInput, "type">>) =>
  put<Connection>(`/connections/${encodeURIComponent(id)}`, body);
export const deleteConnection = (id: string) => del<void>(`/connections/${encodeURIComponent(id)}`);
export const testSettings = (body: ConnectionInput) => post<ConnectionTest>("/connections/test", body);
export const testConnection = (id: string) =>
  post<ConnectionTest>(`/connections/${encodeURIComponent(id)}/test`);

/** Resolves `#/$defs/…` references against `root`, recursively, so a form sees plain objects. */
export function resolveRefs(schema: JsonSchema, root: JsonSchema, seen: Set<string> = new Set()): JsonSchema {
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/\$defs\//, "");
    const target = root.$defs?.[name];
    if (!target || seen.has(name)) return { ...schema };
    const { $ref: _ref, ...rest } = schema;
    // The referencing property's own description wins over the definition's.
    return resolveRefs({ ...target, ...rest }, root, new Set([...seen, name]));
  }
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([key, value]) => [key, resolveRefs(value, root, seen)]));
  }
  if (schema.items) out.items = resolveRefs(schema.items, root, seen);
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const list = schema[key];
    if (list) out[key] = list.map((item) => resolveRefs(item, root, seen));
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    out.additionalProperties = resolveRefs(schema.additionalProperties, root, seen);
  }
  delete out.$defs;
  return out;
}

/** The connection form's schema: the `connection` property of the family's input plugin. */
export async function connectionSchema(type: string): Promise<JsonSchema> {
  const schema = await pluginSchema("input", type);
  const connection = schema.properties?.connection;
  if (!connection) return { type: "object", properties: {} };
  return resolveRefs(connection, schema);
}

/** Names of the secret fields of a connection schema (`format: password` / `writeOnly`). */
export function secretFields(schema: JsonSchema): string[] {
  const isSecret = (field: JsonSchema): boolean =>
    field.format === "password" || field.writeOnly === true || (field.anyOf ?? []).some(isSecret);
  return Object.entries(schema.properties ?? {}).filter(([, field]) => isSecret(field)).map(([name]) => name);
}

/** "host:port/database" or the SQLite file: the one line a table shows for a connection. */
export function connectionSummary(connection: Pick<Connection, "type" | "config">): string {
  const config = connection.config;
  const text = (key: string) => (config[key] === undefined || config[key] === null ? "" : String(config[key]));
  if (connection.type === "sqlite") return text("database") || text("path");
  const host = text("host");
  const port = text("port");
  const database = text("database");
  const address = host ? (port ? `${host}:${port}` : host) : "";
  return [address, database].filter(Boolean).join(" / ");
}

const TESTS_KEY = "fustgo.connectionTests";

export interface RememberedTest extends ConnectionTest {
  at: string;
}

/** The last test of each saved connection, kept in this browser: the server does not store it. */
export function rememberedTests(): Record<string, RememberedTest> {
  try {
    return JSON.parse(localStorage.getItem(TESTS_KEY) ?? "{}") as Record<string, RememberedTest>;
  } catch {
    return {};
  }
}

export function rememberTest(id: string, result: ConnectionTest): RememberedTest {
  const entry = { ...result, at: new Date().toISOString() };
  try {
    localStorage.setItem(TESTS_KEY, JSON.stringify({ ...rememberedTests(), [id]: entry }));
  } catch {
    // A browser without storage just forgets the result on reload.
  }
  return entry;
}

export interface TableItem {
  schema: string;
  name: string;
  kind: string;
  rows_estimate: number | null;
  comment: string | null;
}

/** The tables and views of one schema of a saved connection (its default schema if none). */
export const listTables = (id: string, schema?: string) =>
  get<{ schema: string; items: TableItem[] }>(`/connections/${encodeURIComponent(id)}/tables`, { schema });
