// @vitest-environment node
import { describe, expect, it } from "vitest";
import { History } from "./history";

describe("History", () => {
  it("undoes and redoes", () => {
    const h = new History(0);
    h.push(1);
    h.push(2);
    expect(h.undo()).toBe(1);
    expect(h.undo()).toBe(0);
    expect(h.canUndo).toBe(false);
    expect(h.redo()).toBe(1);
    h.push(5);
    expect(h.canRedo).toBe(false);
  });
  it("coalesces consecutive edits of the same key", () => {
    const h = new History("");
    h.push("a", "n1:condition");
    h.push("ab", "n1:condition");
    h.push("abc", "n1:condition");
    h.push("abcX", "n2:path");
    expect(h.undo()).toBe("abc");
    expect(h.undo()).toBe("");
    // After an undo the next edit is a new step even with the same key.
    h.redo();
    h.push("abcd", "n1:condition");
    expect(h.undo()).toBe("abc");
  });
  it("keeps at most 100 steps", () => {
    const h = new History(0);
    for (let i = 1; i <= 150; i++) h.push(i);
    expect(h.size).toBe(100);
    let last = h.present;
    while (h.canUndo) last = h.undo();
    expect(last).toBe(50);
  });
});
