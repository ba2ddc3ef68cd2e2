/** A plugin block on the canvas: icon by kind, title, one-line summary, validation state. */
import { CheckCircleFilled, CloseCircleFilled, WarningFilled } from "@ant-design/icons";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { Tooltip } from "antd";
import { memo } from "react";
import { useTranslation } from "react-i18next";
import { formatNumber, formatRate } from "../../lib/format";
import type { PipelineNode } from "../../pipeline/model";
import { FORKING_OUTPUTS, KIND_BACKGROUNDS, KIND_COLORS, nodeSummary, pluginIcon } from "../pluginLook";
import type { NodeStatus, StageStats } from "../types";

export interface PluginNodeData extends Record<string, unknown> {
  node: PipelineNode;
  title: string;
  family?: string;
  status?: NodeStatus;
  stats?: StageStats;
}

export type PluginFlowNode = Node<PluginNodeData, "plugin">;

function PluginNodeView({ data, selected }: NodeProps<PluginFlowNode>) {
  const { t } = useTranslation("designer");
  const { node, title, family, status, stats } = data;
  const errors = status?.errors ?? [];
  const warnings = status?.warnings ?? [];
  const state = errors.length ? "error" : warnings.length ? "warning" : "ok";
  const messages = [...errors, ...warnings];
  const hasTarget = node.kind !== "input";
  const hasSource = node.kind !== "output" || FORKING_OUTPUTS.has(node.plugin);
  const summary = nodeSummary(node.config);
  const failed = stats?.recordsFailed ?? 0;
  return (
    <div className={`fg-node fg-node-${state}${selected ? " fg-node-selected" : ""}`}
      data-testid={`node-${node.path}`} data-node-id={node.id} data-plugin={node.plugin} data-status={state}>
      {hasTarget && <Handle type="target" position={Position.Left} />}
      <div className="fg-node-icon" style={{ color: KIND_COLORS[node.kind], background: KIND_BACKGROUNDS[node.kind] }}>
        {pluginIcon(node.plugin, family)}
      </div>
      <div className="fg-node-body">
        <div className="fg-node-title">{node.plugin ? title : t("node.choosePlugin")}</div>
        <div className="fg-node-summary">{summary || t(`kind.${node.kind}`)}</div>
      </div>
      <Tooltip placement="top" title={messages.length
        ? <ul className="fg-node-messages">{messages.map((item, index) => <li key={index}>{item.message}</li>)}</ul>
        : t("node.valid")}>
        <span className={`fg-node-state fg-node-state-${state}`} data-testid={`node-state-${node.path}`}>
          {state === "error" ? <CloseCircleFilled /> : state === "warning" ? <WarningFilled /> : <CheckCircleFilled />}
        </span>
      </Tooltip>
      {stats && (
        <div className="fg-node-live" data-testid={`node-live-${node.path}`}>
          {stats.recordsPerSecond !== undefined && <span>{formatRate(stats.recordsPerSecond)}</span>}
          {stats.recordsOut !== undefined && <span>{t("live.out", { n: formatNumber(stats.recordsOut) })}</span>}
          {failed > 0 && <span className="fg-node-live-errors">{t("live.failed", { n: formatNumber(failed) })}</span>}
        </div>
      )}
      {hasSource && <Handle type="source" position={Position.Right} />}
    </div>
  );
}

export default memo(PluginNodeView);
