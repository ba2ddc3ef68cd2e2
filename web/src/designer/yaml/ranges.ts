/** Where a diagnostic's line/column falls in the text: from the column to the end of the
 *  token there (a quoted string, a word up to `:`/`,`/`]`/`}`), else the whole line. */
export interface TextRange {
  from: number;
  to: number;
}

const STOP = /[\s,\]}#]/;

export function diagnosticRange(text: string, line: number | null | undefined, column: number | null | undefined): TextRange {
  const lines = text.split("\n");
  const index = Math.min(Math.max((line ?? 1) - 1, 0), Math.max(lines.length - 1, 0));
  const start = lines.slice(0, index).reduce((sum, item) => sum + item.length + 1, 0);
  const content = lines[index] ?? "";
  const indent = content.length - content.trimStart().length;
  if (!column || column < 1) return { from: start + indent, to: start + content.length };
  let at = Math.min(column - 1, content.length);
  // A column past the text (or on blanks) underlines the line's content.
  if (at >= content.trimEnd().length || /\s/.test(content[at] ?? "")) return { from: start + indent, to: start + Math.max(content.trimEnd().length, indent) };
  let end = at;
  const quote = content[at];
  if (quote === '"' || quote === "'") {
    end = content.indexOf(quote, at + 1);
    end = end < 0 ? content.length : end + 1;
  } else {
    while (end < content.length && !STOP.test(content[end]) && !(content[end] === ":" && /\s|$/.test(content[end + 1] ?? ""))) end++;
    if (end === at) end = at + 1;
  }
  if (at < 0) at = 0;
  return { from: start + at, to: start + end };
}
