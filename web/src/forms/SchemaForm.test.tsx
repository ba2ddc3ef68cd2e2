// The generated form on real schemas: fields by test id, minimal values, errors on fields.
import { act, fireEvent, render, screen } from "@testing-library/react";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { JsonSchema } from "../api/plugins";
import "../i18n";
import SchemaForm from "./SchemaForm";
import postgresIn from "./fixtures/input_postgresql.json";
import transform from "./fixtures/processor_transform.json";
import filter from "./fixtures/processor_filter.json";

beforeAll(() => {
  // antd's responsive helpers ask for matchMedia, which jsdom lacks.
  Object.defineProperty(window, "matchMedia", {
    writable: true,
    value: (query: string) => ({ matches: false, media: query, onchange: null, addListener: () => {}, removeListener: () => {}, addEventListener: () => {}, removeEventListener: () => {}, dispatchEvent: () => false }),
  });
});

const input = (testId: string) => screen.getByTestId(testId).querySelector("input, textarea") as HTMLInputElement;

describe("SchemaForm", { timeout: 30000 }, () => {
  it("edits a nested field and writes only what changed", () => {
    const onChange = vi.fn();
    const value = { connection: { database: "shop", user: "root", password: "${PG_PASSWORD}" } };
    render(<SchemaForm schema={postgresIn as unknown as JsonSchema} value={value} onChange={onChange} errors={{ "connection.user": "role does not exist" }} />);
    // Defaults are placeholders, not values.
    expect(input("field-connection.host").value).toBe("");
    expect(input("field-connection.host").placeholder).toBe("localhost");
    act(() => {
      fireEvent.change(input("field-connection.host"), { target: { value: "db.local" } });
    });
    expect(onChange).toHaveBeenLastCalledWith({ connection: { ...value.connection, host: "db.local" } });
    // A ${VAR} password stays readable; the error sits on its field.
    expect(input("field-connection.password").value).toBe("${PG_PASSWORD}");
    expect(input("field-connection.password").type).toBe("text");
    expect(screen.getByText("role does not exist")).toBeTruthy();
    act(() => {
      fireEvent.change(input("field-connection.database"), { target: { value: "" } });
    });
    expect(onChange).toHaveBeenLastCalledWith({ connection: { user: "root", password: "${PG_PASSWORD}" } });
  });

  it("shows an SQL expression as a monospace text area", () => {
    render(<SchemaForm schema={filter as unknown as JsonSchema} value={{ condition: "amount > 0" }} onChange={() => {}} kind="processor" />);
    const area = input("field-condition");
    expect(area.tagName).toBe("TEXTAREA");
    expect(area.value).toBe("amount > 0");
  });

  it("groups fields in tabs and lists objects with their variants", () => {
    const onChange = vi.fn();
    render(
      <SchemaForm schema={transform as unknown as JsonSchema} kind="processor" grouped onChange={onChange}
        value={{ operations: [{ op: "trim", fields: ["email"] }], on_error: "null" }} />,
    );
    expect(screen.getByTestId("group-processing")).toBeTruthy();
    expect(screen.getByTestId("group-errors")).toBeTruthy();
    expect(screen.getByTestId("field-operations[0]")).toBeTruthy();
    act(() => {
      fireEvent.click(screen.getByTestId("field-operations-add"));
    });
    const next = onChange.mock.lastCall![0] as { operations: unknown[] };
    expect(next.operations).toHaveLength(2);
    expect(next.operations[0]).toEqual({ op: "trim", fields: ["email"] });
  });
});
