import { describe, expect, it } from "vitest";
import type { JsonSchema } from "../../api/plugins";
import { defaultText, rows, typeName } from "./schemaFields";

const schema: JsonSchema = {
  $defs: {
    Conn: {
      type: "object",
      title: "Conn",
      required: ["database"],
      properties: {
        host: { type: "string", default: "localhost", description: "Server host." },
        database: { type: "string" },
        password: { anyOf: [{ type: "string", format: "password", writeOnly: true }, { type: "null" }], default: null },
      },
    },
    Csv: { type: "object", title: "Csv", properties: { delimiter: { type: "string", default: "," } } },
    Json: { type: "object", title: "Json", properties: { lines: { type: "boolean", default: true } } },
  },
  type: "object",
  required: ["type", "connection"],
  properties: {
    type: { const: "postgresql" },
    connection: { $ref: "#/$defs/Conn", description: "Where to connect." },
    columns: { anyOf: [{ type: "array", items: { type: "string" } }, { type: "null" }], default: null },
    options: { type: "object", additionalProperties: { type: "integer" } },
    mode: { enum: ["a", "b"], default: "a" },
    format: { anyOf: [{ $ref: "#/$defs/Csv" }, { $ref: "#/$defs/Json" }] },
  },
};

describe("schema field rows", () => {
  const table = rows(schema);
  const byName = Object.fromEntries(table.map((row) => [row.name, row]));

  it("expands a $ref object with the property's own description", () => {
    const connection = byName.connection;
    expect(connection.required).toBe(true);
    expect(connection.description).toBe("Where to connect.");
    expect(connection.children?.map((row) => row.key)).toEqual(["connection.host", "connection.database", "connection.password"]);
    const password = connection.children?.find((row) => row.name === "password");
    expect(password?.secret).toBe(true);
    expect(password?.type).toBe("secret?");
    expect(connection.children?.find((row) => row.name === "database")?.required).toBe(true);
  });

  it("spells types", () => {
    expect(byName.type.type).toBe('"postgresql"');
    expect(byName.columns.type).toBe("string[]?");
    expect(byName.options.type).toBe("map<string, integer>");
    expect(byName.mode.type).toBe('"a" | "b"');
    expect(typeName({ $ref: "#/$defs/Conn" }, schema)).toBe("Conn");
  });

  it("groups the variants of a union of objects", () => {
    expect(byName.format.type).toBe("Csv | Json");
    expect(byName.format.children?.map((row) => row.name)).toEqual(["Csv", "Json"]);
    expect(byName.format.children?.[1].children?.[0].name).toBe("lines");
  });

  it("tells a null default from no default", () => {
    expect(defaultText(byName.columns)).toBe("null");
    expect(defaultText(byName.options)).toBe("");
    expect(defaultText(byName.mode)).toBe('"a"');
  });
});
