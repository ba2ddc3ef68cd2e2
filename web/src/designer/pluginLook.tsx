/** How a plugin looks on the palette and the canvas: its icon and its kind's color. */
import {
  ApiOutlined, BranchesOutlined, CloudServerOutlined, CodeOutlined, DatabaseOutlined,
  DeleteOutlined, ExperimentOutlined, FileTextOutlined, FilterOutlined, FunctionOutlined,
  GlobalOutlined, MergeCellsOutlined, NodeIndexOutlined, QuestionOutlined, SwapOutlined,
  ThunderboltOutlined, CopyOutlined, ScissorOutlined, ForkOutlined, ClockCircleOutlined,
} from "@ant-design/icons";
import type { ReactNode } from "react";
import type { NodeKind } from "../pipeline/model";

export const KIND_COLORS: Record<NodeKind, string> = {
  input: "#389e0d",
  processor: "#d48806",
  output: "#d4380d",
};

export const KIND_BACKGROUNDS: Record<NodeKind, string> = {
  input: "#f6ffed",
  processor: "#fffbe6",
  output: "#fff2e8",
};

const BY_NAME: Record<string, ReactNode> = {
  filter: <FilterOutlined />,
  mapping: <SwapOutlined />,
  switch: <ForkOutlined />,
  broker: <BranchesOutlined />,
  conditional: <BranchesOutlined />,
  aggregate: <FunctionOutlined />,
  merge: <MergeCellsOutlined />,
  deduplicate: <CopyOutlined />,
  split: <ScissorOutlined />,
  date_format: <ClockCircleOutlined />,
  stdout: <CodeOutlined />,
  drop: <DeleteOutlined />,
  generate: <ExperimentOutlined />,
  sql: <CodeOutlined />,
};

const BY_FAMILY: Record<string, ReactNode> = {
  rdb: <DatabaseOutlined />,
  file: <FileTextOutlined />,
  mq: <ThunderboltOutlined />,
  http: <GlobalOutlined />,
  routing: <BranchesOutlined />,
  transform: <NodeIndexOutlined />,
  debug: <CodeOutlined />,
  generate: <ExperimentOutlined />,
  cloud: <CloudServerOutlined />,
  api: <ApiOutlined />,
};

export function pluginIcon(name: string, family?: string): ReactNode {
  return BY_NAME[name] ?? (family ? BY_FAMILY[family] : undefined) ?? <QuestionOutlined />;
}

/** Outputs that fan records out to child outputs, drawn as their own nodes. */
export const FORKING_OUTPUTS = new Set(["switch", "broker"]);

/** Keys of a plugin's config drawn as other nodes, not edited in its form. */
export function childKeys(plugin: string): string[] {
  if (plugin === "switch") return ["cases", "default"];
  if (plugin === "broker") return ["outputs"];
  return [];
}

function text(value: unknown): string | null {
  if (typeof value === "string" && value.trim()) return value.trim();
  if (typeof value === "number") return String(value);
  if (Array.isArray(value) && value.length) {
    const first = text(value[0]);
    return first && value.length > 1 ? `${first} +${value.length - 1}` : first;
  }
  return null;
}

function pick(config: Record<string, unknown>, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split(".")) {
    if (!value || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The one line a node shows under its title: its table, condition, path or topic. */
export function nodeSummary(config: Record<string, unknown>): string {
  const keys = [
    "condition", "write.table", "table", "query.table", "query", "paths", "path",
    "topic", "topics", "subject", "queue", "url", "connection.database", "select", "group_by",
  ];
  for (const key of keys) {
    const found = text(pick(config, key));
    if (found) return found;
  }
  const mappings = config.field_mappings;
  if (mappings && typeof mappings === "object") {
    return Object.entries(mappings as Record<string, unknown>).map(([a, b]) => `${a}→${String(b)}`).join(", ");
  }
  return "";
}
