/** Nothing selected: the pipeline's own fields (name, description, settings, dead letter). */
import { Form, Input, InputNumber, Select, Skeleton, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { pluginSchema, type JsonSchema, type PluginSummary } from "../../api/plugins";
import type { Problem } from "../types";
import SchemaForm from "../../forms/SchemaForm";
import ProblemList from "./ProblemList";

type Doc = Record<string, unknown>;
const asObj = (value: unknown): Doc => (value && typeof value === "object" && !Array.isArray(value) ? value as Doc : {});

interface Props {
  document: Doc;
  plugins: PluginSummary[];
  problems: Problem[];
  onChange: (document: Doc, key: string) => void;
}

/** Sets `value` at `path` (dropping empty values and emptied objects). */
function setIn(doc: Doc, path: string[], value: unknown): Doc {
  const [head, ...rest] = path;
  const next = { ...doc };
  const child = rest.length ? setIn(asObj(doc[head]), rest, value) : value;
  const empty = child === undefined || child === null || child === "" || (typeof child === "object" && !Array.isArray(child) && !Object.keys(child as Doc).length);
  if (empty) delete next[head];
  else next[head] = child;
  return next;
}

export default function PipelinePanel({ document, plugins, problems, onChange }: Props) {
  const { t } = useTranslation("designer");
  const settings = asObj(document.settings);
  const errorLimit = asObj(settings.error_limit);
  const deadLetter = asObj(document.dead_letter);
  const deadType = typeof deadLetter.type === "string" ? deadLetter.type : undefined;
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  useEffect(() => {
    setSchema(null);
    if (deadType) pluginSchema("output", deadType).then(setSchema, () => setSchema(null));
  }, [deadType]);
  const set = (path: string[], value: unknown) => onChange(setIn(document, path, value), `document:${path.join(".")}`);
  const outputs = plugins.filter((item) => item.kind === "output" && item.enabled && !["switch", "broker"].includes(item.name));
  const fieldError = (path: string) => problems.find((problem) => problem.path?.startsWith(path));
  const status = (path: string) => (fieldError(path) ? "error" as const : undefined);
  const help = (path: string) => fieldError(path)?.message;

  return (
    <div className="fg-panel-inner" data-testid="pipeline-panel">
      <div className="fg-panel-head">
        <div className="fg-panel-title"><Typography.Text strong>{t("pipeline.title")}</Typography.Text>
          <div><Typography.Text type="secondary">{t("pipeline.subtitle")}</Typography.Text></div></div>
      </div>
      <ProblemList problems={problems} testId="pipeline-problems" />
      <Form layout="vertical" size="small">
        <Form.Item label={t("pipeline.name")} validateStatus={status("name")} help={help("name")}>
          <Input value={String(document.name ?? "")} onChange={(event) => set(["name"], event.target.value)} data-testid="pipeline-name" />
        </Form.Item>
        <Form.Item label={t("pipeline.description")}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 5 }} value={String(document.description ?? "")}
            onChange={(event) => set(["description"], event.target.value)} data-testid="pipeline-description" />
        </Form.Item>
        <Typography.Title level={5} className="fg-panel-section">{t("pipeline.settings")}</Typography.Title>
        <div className="fg-form-row">
          <Form.Item label={t("pipeline.parallelism")} tooltip={t("pipeline.parallelismHelp")}
            validateStatus={status("settings.parallelism")} help={help("settings.parallelism")}>
            <InputNumber min={1} max={256} placeholder="1" value={settings.parallelism as number | undefined}
              onChange={(value) => set(["settings", "parallelism"], value ?? undefined)} data-testid="settings-parallelism" />
          </Form.Item>
          <Form.Item label={t("pipeline.batchSize")} tooltip={t("pipeline.batchSizeHelp")}
            validateStatus={status("settings.batch_size")} help={help("settings.batch_size")}>
            <InputNumber min={1} placeholder="10000" value={settings.batch_size as number | undefined}
              onChange={(value) => set(["settings", "batch_size"], value ?? undefined)} data-testid="settings-batch-size" />
          </Form.Item>
        </div>
        <div className="fg-form-row">
          <Form.Item label={t("pipeline.errorRecords")} tooltip={t("pipeline.errorRecordsHelp")}
            validateStatus={status("settings.error_limit")} help={help("settings.error_limit")}>
            <InputNumber min={0} placeholder="0" value={errorLimit.records as number | undefined}
              onChange={(value) => set(["settings", "error_limit", "records"], value ?? undefined)} data-testid="settings-error-records" />
          </Form.Item>
          <Form.Item label={t("pipeline.errorPercentage")} tooltip={t("pipeline.errorPercentageHelp")}>
            <InputNumber min={0} max={1} step={0.01} value={errorLimit.percentage as number | undefined}
              onChange={(value) => set(["settings", "error_limit", "percentage"], value ?? undefined)} />
          </Form.Item>
        </div>
        <Typography.Title level={5} className="fg-panel-section">{t("pipeline.deadLetter")}</Typography.Title>
        <Form.Item label={t("pipeline.deadLetterType")} extra={t("pipeline.deadLetterHelp")}
          validateStatus={status("dead_letter")} help={help("dead_letter")}>
          <Select allowClear value={deadType} placeholder={t("pipeline.deadLetterNone")} data-testid="dead-letter-type"
            options={outputs.map((item) => ({ value: item.name, label: item.title }))}
            onChange={(value?: string) => set(["dead_letter"], value ? { type: value, ...(value === deadType ? deadLetter : {}) } : undefined)} />
        </Form.Item>
        {deadType && !schema && <Skeleton active paragraph={{ rows: 2 }} />}
        {deadType && schema && (
          <div data-testid="dead-letter-form">
            <SchemaForm schema={schema} value={deadLetter} omit={["type"]} kind="output"
              onChange={(value) => set(["dead_letter"], { type: deadType, ...value })} />
          </div>
        )}
      </Form>
    </div>
  );
}
