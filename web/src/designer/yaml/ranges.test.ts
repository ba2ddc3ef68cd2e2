// @vitest-environment node
import { describe, expect, it } from "vitest";
import { diagnosticRange } from "./ranges";

const text = "output:\n  write:\n    mode: upsret   # typo\n    table: \"a b\"\n";
const slice = (line: number | null, column: number | null) => {
  const { from, to } = diagnosticRange(text, line, column);
  return text.slice(from, to);
};

describe("diagnosticRange", () => {
  it("underlines the token at the column", () => {
    expect(slice(3, 11)).toBe("upsret");
    expect(slice(3, 5)).toBe("mode");
    expect(slice(4, 12)).toBe('"a b"');
  });
  it("underlines the line without a column or past its end", () => {
    expect(slice(2, null)).toBe("write:");
    expect(slice(2, 40)).toBe("write:");
    expect(slice(99, 1)).toBe("");
  });
});
