// @vitest-environment node
// How schema.ts reads the real plugin schemas (saved from /api/v1/plugins/*/config-schema).
import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../api/plugins";
import { groupFields } from "./SchemaForm";
import { groupOf, parseQuantity, unwrap, variantOf, variantsOf, widgetOf, withKey } from "./schema";
import postgresIn from "./fixtures/input_postgresql.json";
import postgresOut from "./fixtures/output_postgresql.json";
import transform from "./fixtures/processor_transform.json";
import enrichment from "./fixtures/processor_enrichment.json";
import kafka from "./fixtures/input_kafka.json";
import filter from "./fixtures/processor_filter.json";

const widget = (root: JsonSchema, path: string[]) => {
  let schema: JsonSchema = root;
  for (const key of path) schema = unwrap(schema.properties![key], root).schema;
  return widgetOf(schema, root);
};

describe("widgets", () => {
  it("picks a widget per field", () => {
    const pg = postgresIn as unknown as JsonSchema;
    expect(widget(pg, ["connection"])).toBe("object");
    expect(widget(pg, ["connection", "host"])).toBe("text");
    expect(widget(pg, ["connection", "port"])).toBe("number");
    expect(widget(pg, ["connection", "password"])).toBe("password");
    expect(widget(pg, ["connection", "sslmode"])).toBe("select");
    expect(widget(pg, ["connection", "connect_timeout"])).toBe("quantity");
    expect(widget(pg, ["connection", "options"])).toBe("keyvalue");
    expect(widget(filter as JsonSchema, ["condition"])).toBe("sql");
    expect(widget(transform as JsonSchema, ["operations"])).toBe("list");
    expect(widget(transform as JsonSchema, ["fields"])).toBe("keyvalue");
    expect(widget(enrichment as unknown as JsonSchema, ["lookup"])).toBe("union");
    expect(widget(kafka as JsonSchema, ["topics"])).toBe("tags");
    expect(widget(kafka as JsonSchema, ["stop", "idle"])).toBe("quantity");
    expect(widget(kafka as JsonSchema, ["properties"])).toBe("keyvalue");
  });

  it("flattens nested discriminated unions", () => {
    const root = enrichment as unknown as JsonSchema;
    const variants = variantsOf(unwrap(root.properties!.lookup, root).schema, root)!;
    expect(variants.map((variant) => variant.consts)).toContainEqual({ type: "sql", driver: "sqlite" });
    expect(variants.map((variant) => variant.consts)).toContainEqual({ type: "static" });
    expect(variantOf(variants, { type: "sql", driver: "postgresql" })!.consts).toEqual({ type: "sql", driver: "postgresql" });
  });
});

describe("groups", () => {
  it("follows the property panel's table", () => {
    const pg = postgresIn as unknown as JsonSchema;
    expect(groupFields(pg, ["connection", "query", "fetch"], "input")).toEqual([
      ["connection", ["connection"]],
      ["query", ["query"]],
      ["performance", ["fetch"]],
    ]);
    expect(groupFields(postgresOut as JsonSchema, ["connection", "write"], "output").map(([group]) => group)).toEqual(["connection", "processing"]);
    expect(groupOf("on_error", {}, "processor")).toBe("errors");
    expect(groupOf("condition", {}, "processor")).toBe("processing");
    expect(groupOf("path", {}, "output")).toBe("basic");
    expect(groupOf("anything", { "x-group": "performance" }, "output")).toBe("performance");
  });
});

describe("values", () => {
  it("stays minimal", () => {
    expect(withKey({ a: 1 }, "b", "")).toEqual({ a: 1 });
    expect(withKey({ a: 1, b: 2 }, "b", undefined)).toEqual({ a: 1 });
    expect(withKey({ a: 1 }, "b", [])).toEqual({ a: 1 });
    expect(withKey({ a: 1 }, "b", false)).toEqual({ a: 1, b: false });
    expect(parseQuantity("30")).toBe(30);
    expect(parseQuantity("30s")).toBe("30s");
    expect(parseQuantity(" ")).toBeUndefined();
  });
});
