// The records table: cells as text (NULL apart), types and statistics in the headers.
import { render, screen, within } from "@testing-library/react";
import { beforeAll, describe, expect, it } from "vitest";
import "../i18n";
import DataTable, { cellText } from "./DataTable";

beforeAll(() => {
  // antd's responsive helpers ask for matchMedia, which jsdom lacks.
  Object.defineProperty(window, "matchMedia", {
    writable: true,
    value: (query: string) => ({ matches: false, media: query, onchange: null, addListener: () => {}, removeListener: () => {}, addEventListener: () => {}, removeEventListener: () => {}, dispatchEvent: () => false }),
  });
});

describe("DataTable", { timeout: 30000 }, () => {
  it("spells cells", () => {
    expect(cellText(null)).toBe("NULL");
    expect(cellText({ a: [1] })).toBe('{"a":[1]}');
    expect(cellText(1.5)).toBe("1.5");
  });

  it("shows rows, types, keys and per-column statistics", () => {
    render(
      <DataTable
        columns={[{ name: "id", type: "integer" }, { name: "email", type: null }]}
        rows={[[1, "a@x"], [2, null], [3, "c@x"]]}
        schema={[
          { name: "id", type: "integer", nullable: false, primary_key: 1 },
          { name: "email", type: "text", nullable: true },
        ]}
        stats={[
          { name: "id", rows: 3, null_count: 0, null_ratio: 0, distinct: 3, min: 1, max: 3 },
          { name: "email", rows: 3, null_count: 1, null_ratio: 0.3333, distinct: 2, top_values: [{ value: "a@x", count: 1 }] },
        ]}
      />,
    );
    const table = screen.getByTestId("data-table");
    expect(within(table).getAllByText("NULL")).toHaveLength(1);
    expect(within(table).getByText("c@x")).toBeTruthy();
    // The header takes the declared type when the column has none of its own.
    const email = within(table).getAllByTestId("column-email")[0];
    expect(email.textContent).toContain("text");
    expect(within(table).getAllByTestId("summary-email")[0].textContent).toBe("null 33% · 2 distinct");
    expect(within(table).getAllByTestId("column-id")[0].textContent).toContain("NOT NULL");
  });

  it("says when there are no rows", () => {
    render(<DataTable columns={[{ name: "id" }]} rows={[]} />);
    expect(screen.getByText("No rows.")).toBeTruthy();
  });
});
