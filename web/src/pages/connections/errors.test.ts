import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { connectionSummary, resolveRefs, secretFields } from "../../api/connections";
import { formErrors } from "./errors";

describe("connection form errors", () => {
  it("splits the server's details into top-level and config fields", () => {
    const error = new ApiError(422, "`config.port`: bad", "config.port", "See `details`.", [
      { field: "config.port", message: "Input should be a valid integer" },
      { field: "config.database", message: "Field required" },
      { field: "name", message: "too short" },
    ]);
    expect(formErrors(error)).toEqual({
      fields: { name: "too short" },
      config: { port: "Input should be a valid integer", database: "Field required" },
    });
  });

  it("uses the single field of an error without details", () => {
    expect(formErrors(new ApiError(422, "No catalog for `pg`", "type")).fields).toEqual({ type: "No catalog for `pg`" });
    expect(formErrors(new Error("x"))).toEqual({ fields: {}, config: {} });
  });
});

describe("connection helpers", () => {
  it("resolves the connection $ref and finds its secrets", () => {
    const root = {
      $defs: { Conn: { type: "object", properties: { host: { type: "string" },
        password: { anyOf: [{ type: "string", format: "password", writeOnly: true }, { type: "null" }] } } } },
      properties: { connection: { $ref: "#/$defs/Conn", description: "Where." } },
    };
    const resolved = resolveRefs(root.properties.connection, root);
    expect(resolved.description).toBe("Where.");
    expect(Object.keys(resolved.properties ?? {})).toEqual(["host", "password"]);
    expect(secretFields(resolved)).toEqual(["password"]);
  });

  it("summarises where a connection points", () => {
    expect(connectionSummary({ type: "postgresql", config: { host: "db", port: 5433, database: "shop" } })).toBe("db:5433 / shop");
    expect(connectionSummary({ type: "mysql", config: { host: "db", database: "shop" } })).toBe("db / shop");
    expect(connectionSummary({ type: "sqlite", config: { database: "/tmp/a.db" } })).toBe("/tmp/a.db");
  });
});
