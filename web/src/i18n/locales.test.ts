/** Both languages carry the same keys in every namespace, and no Chinese text is an English copy. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "locales");

function flatten(value: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  if (value && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      for (const [path, text] of flatten(child, prefix ? `${prefix}.${key}` : key)) out.set(path, text);
    }
  } else out.set(prefix, String(value));
  return out;
}

const read = (language: string, file: string) => flatten(JSON.parse(readFileSync(join(root, language, file), "utf8")));

describe("locales", () => {
  const namespaces = readdirSync(join(root, "en")).sort();

  it("ship the same namespaces in both languages", () => {
    expect(readdirSync(join(root, "zh-CN")).sort()).toEqual(namespaces);
  });

  it.each(namespaces)("%s has the same keys in en and zh-CN", (file) => {
    expect([...read("zh-CN", file).keys()].sort()).toEqual([...read("en", file).keys()].sort());
  });

  it.each(namespaces)("%s is translated (Chinese in most zh-CN texts)", (file) => {
    const texts = [...read("zh-CN", file).values()].filter((text) => /[A-Za-z]{4,}/.test(text) || /\p{Script=Han}/u.test(text));
    const chinese = texts.filter((text) => /\p{Script=Han}/u.test(text));
    expect(chinese.length / Math.max(texts.length, 1)).toBeGreaterThan(0.8);
  });
});
