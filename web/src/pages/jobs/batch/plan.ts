/** The jobs a table-to-table template makes: one pipeline YAML per chosen table. */
import { stringify } from "yaml";

export interface BatchTemplate {
  sourceType: string;
  sourceConfig: Record<string, unknown>;
  targetType: string;
  targetConfig: Record<string, unknown>;
  namePattern: string;
  tablePattern: string;
  mode: string;
  conflictKey: string[];
}

export interface PlannedJob {
  table: string;
  name: string;
  targetTable: string;
  yaml: string;
}

/** `{table}` becomes the table's name (its schema prefix dropped in names: `shop.orders` → `orders`). */
const fill = (pattern: string, table: string) => pattern.split("{table}").join(table.split(".").pop() ?? table);

export function planJobs(template: BatchTemplate, tables: string[]): PlannedJob[] {
  return tables.map((table) => {
    const name = fill(template.namePattern, table);
    const targetTable = fill(template.tablePattern, table);
    const write: Record<string, unknown> = { table: targetTable, mode: template.mode };
    if (template.conflictKey.length) write.conflict_key = template.conflictKey;
    const pipeline = {
      name,
      input: { type: template.sourceType, connection: template.sourceConfig, query: { table } },
      output: { type: template.targetType, connection: template.targetConfig, write },
    };
    return { table, name, targetTable, yaml: stringify(pipeline, { lineWidth: 0 }) };
  });
}

/** Table names pasted one per line (commas and spaces also separate), without duplicates. */
export const parseTables = (text: string) => [...new Set(text.split(/[\s,;]+/).map((item) => item.trim()).filter(Boolean))];
