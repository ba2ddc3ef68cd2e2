import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseTables, planJobs } from "../batch/plan";
import { nextCronTimes } from "./cron";
import { mappingProcessor, pipelineYaml } from "./model";

describe("wizard YAML", () => {
  it("puts type first and adds a mapping only for renames and drops", () => {
    expect(mappingProcessor([{ source: "a", target: "a", keep: true }])).toBeNull();
    const yaml = pipelineYaml({
      name: "j", description: "", schedule: { kind: "manual", cron: "", timezone: "UTC", runAt: null },
      source: { plugin: "csv", config: { paths: ["x.csv"] } },
      target: { plugin: "sqlite", config: { connection: { database: "o.db" }, write: { table: "t" } } },
      fields: [{ source: "a", target: "b", keep: true }, { source: "c", target: "c", keep: false }],
    });
    expect(yaml).toContain("input:\n  type: csv\n");
    expect(parse(yaml).pipeline.processors).toEqual([{ type: "mapping", field_mappings: { a: "b" }, drop: ["c"] }]);
  });
});

describe("batch plan", () => {
  it("fills {table} and drops a schema prefix in names", () => {
    const [job] = planJobs({ sourceType: "mysql", sourceConfig: {}, targetType: "postgresql", targetConfig: {},
      namePattern: "sync-{table}", tablePattern: "ods_{table}", mode: "upsert", conflictKey: ["id"] }, parseTables("shop.orders, shop.orders\n"));
    expect(job.name).toBe("sync-orders");
    expect(job.targetTable).toBe("ods_orders");
    expect(job.yaml).toContain("table: shop.orders");
  });
});

describe("cron preview", () => {
  it("lists the next times of a daily expression and refuses what it cannot read", () => {
    const times = nextCronTimes("30 2 * * *", "UTC", 3) ?? [];
    expect(times).toHaveLength(3);
    expect(times.every((time) => time.hour() === 2 && time.minute() === 30)).toBe(true);
    expect(nextCronTimes("bad", "UTC")).toBeNull();
  });
});
