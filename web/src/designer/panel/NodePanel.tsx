/** The selected block: its plugin, its settings form (errors on the fields), its preview. */
import { DeleteOutlined } from "@ant-design/icons";
import { Button, Empty, Select, Skeleton, Tabs, Tag, Tooltip, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { pluginSchema, type JsonSchema, type PluginSummary } from "../../api/plugins";
import ErrorAlert from "../../components/ErrorAlert";
import type { PipelineNode } from "../../pipeline/model";
import { childKeys, KIND_BACKGROUNDS, KIND_COLORS, pluginIcon } from "../pluginLook";
import type { Problem } from "../types";
import SchemaForm from "../../forms/SchemaForm";
import PreviewTab from "./PreviewTab";
import ProblemList from "./ProblemList";

interface Props {
  node: PipelineNode;
  plugins: PluginSummary[];
  problems: Problem[];
  tab: string;
  onTab: (tab: string) => void;
  onConfig: (config: Record<string, unknown>) => void;
  onPlugin: (plugin: string) => void;
  onDelete: () => void;
  /** The pipeline as it is now in the designer (saved or not), for previews. */
  draftYaml: () => string;
}

function useSchema(kind: PipelineNode["kind"], plugin: string) {
  const [state, setState] = useState<{ schema: JsonSchema | null; error: unknown; loading: boolean }>({ schema: null, error: null, loading: false });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!plugin) return undefined;
    let live = true;
    setState({ schema: null, error: null, loading: true });
    pluginSchema(kind, plugin).then(
      (schema) => live && setState({ schema, error: null, loading: false }),
      (error: unknown) => live && setState({ schema: null, error, loading: false }),
    );
    return () => { live = false; };
  }, [kind, plugin, attempt]);
  return { ...state, retry: () => setAttempt((value) => value + 1) };
}

export default function NodePanel({ node, plugins, problems, tab, onTab, onConfig, onPlugin, onDelete, draftYaml }: Props) {
  const { t } = useTranslation("designer");
  const info = plugins.find((item) => item.kind === node.kind && item.name === node.plugin);
  const { schema, error, loading, retry } = useSchema(node.kind, node.plugin);
  const fieldErrors: Record<string, string> = {};
  for (const problem of problems) {
    if (problem.field && !(problem.field in fieldErrors)) fieldErrors[problem.field] = problem.hint ? `${problem.message} (${problem.hint})` : problem.message;
  }
  const choices = plugins.filter((item) => item.kind === node.kind && item.enabled);

  const config = !node.plugin ? (
    <div data-testid="plugin-picker">
      <Typography.Paragraph>{t("panel.pickPlugin")}</Typography.Paragraph>
      <Select showSearch style={{ width: "100%" }} placeholder={t("panel.pickPlaceholder")} optionFilterProp="label"
        options={choices.map((item) => ({ value: item.name, label: `${item.title} (${item.name})` }))}
        onChange={(value: string) => onPlugin(value)} />
    </div>
  ) : (
    <>
      <ErrorAlert error={error} onRetry={retry} />
      {loading && <Skeleton active />}
      {schema && (
        <div data-testid="node-form">
          <SchemaForm key={node.id} schema={schema} value={node.config} onChange={onConfig} kind={node.kind} grouped
            errors={fieldErrors} omit={["type", ...childKeys(node.plugin)]} />
        </div>
      )}
      {!loading && !schema && !error && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />}
    </>
  );

  return (
    <div className="fg-panel-inner" data-testid="node-panel">
      <div className="fg-panel-head">
        <span className="fg-panel-icon" style={{ color: KIND_COLORS[node.kind], background: KIND_BACKGROUNDS[node.kind] }}>
          {pluginIcon(node.plugin, info?.family)}
        </span>
        <div className="fg-panel-title">
          <Typography.Text strong ellipsis data-testid="panel-title">{info?.title ?? (node.plugin || t("node.choosePlugin"))}</Typography.Text>
          <div>
            <Tag color={node.kind === "input" ? "green" : node.kind === "processor" ? "gold" : "volcano"}>{t(`kind.${node.kind}`)}</Tag>
            {node.plugin && <Tag>{node.plugin}</Tag>}
          </div>
        </div>
        <Tooltip title={t("menu.delete")}>
          <Button type="text" danger icon={<DeleteOutlined />} onClick={onDelete} data-testid="panel-delete" aria-label={t("menu.delete")} />
        </Tooltip>
      </div>
      <Typography.Text type="secondary" className="fg-panel-path"><code>{node.path}</code></Typography.Text>
      <ProblemList problems={problems} testId="node-problems" />
      <Tabs activeKey={tab} onChange={onTab} size="small" items={[
        { key: "config", label: t("panel.config"), children: config },
        { key: "preview", label: t("panel.preview"), children: <PreviewTab node={node} draftYaml={draftYaml} />, disabled: !node.plugin },
      ]} />
    </div>
  );
}
