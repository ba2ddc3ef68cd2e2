/** Source columns against target columns (POST /preview/schema); the user renames or drops
 * fields, which become a `mapping` processor. */
import { ReloadOutlined } from "@ant-design/icons";
import { Alert, Button, Checkbox, Input, Space, Table, Tag, Tooltip, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { stringify } from "yaml";
import { compareSchemas, previewSource, type CompareRow, type CompareStatus } from "../../../api/preview";
import ErrorAlert, { errorText } from "../../../components/ErrorAlert";
import type { Endpoint, FieldRule } from "./model";

const COLORS: Record<CompareStatus, string> = {
  compatible: "success", warning: "warning", incompatible: "error", missing_in_target: "processing", missing_in_source: "default",
};

interface Props {
  source: Endpoint;
  target: Endpoint;
  fields: FieldRule[];
  onChange: (fields: FieldRule[]) => void;
}

export default function MappingStep({ source, target, fields, onChange }: Props) {
  const { t } = useTranslation("jobs");
  const [rows, setRows] = useState<CompareRow[]>([]);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    setNote(null);
    const yaml = stringify({ name: "wizard-mapping", input: { type: source.plugin, ...source.config }, output: { type: target.plugin, ...target.config } });
    let found: CompareRow[] = [];
    let suggested: Record<string, string> = {};
    try {
      const result = await compareSchemas({ config_yaml: yaml }, { config_yaml: yaml });
      found = result.columns;
      suggested = result.mapping ?? {};
      if (!result.target_exists) setNote(result.message ?? t("mapping.newTable"));
    } catch (compareError) {
      // The target may not exist yet (a new SQLite file, a file output): compare with nothing.
      try {
        const preview = await previewSource({ config_yaml: yaml }, 1);
        found = preview.schema.map((column) => ({
          source: { name: column.name, type: column.type, logical: column.logical ?? null, nullable: column.nullable ?? true },
          target: null, match: null, status: "missing_in_target" as const, messages: [],
        }));
        setNote(`${t("mapping.noTarget")} ${errorText(compareError)}`);
      } catch (previewError) {
        setError(previewError);
      }
    }
    setRows(found);
    const known = new Map(fields.map((rule) => [rule.source, rule]));
    onChange(found.filter((row) => row.source).map((row) => {
      const name = row.source!.name;
      return known.get(name) ?? { source: name, target: suggested[name] ?? row.target?.name ?? name, keep: true };
    }));
    setLoading(false);
    // Re-reads the columns only when an endpoint changes; fields and onChange are taken as they are then.
  }, [source, target]);

  useEffect(() => { void load(); }, [load]);

  const rule = (name: string) => fields.find((item) => item.source === name);
  const update = (name: string, change: Partial<FieldRule>) =>
    onChange(fields.map((item) => (item.source === name ? { ...item, ...change } : item)));

  return (
    <div data-testid="wizard-mapping">
      <Space style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">{t("mapping.help")}</Typography.Text>
        <Button size="small" icon={<ReloadOutlined />} onClick={() => void load()}>{t("mapping.compare")}</Button>
      </Space>
      {note && <Alert type="info" showIcon message={note} style={{ marginBottom: 12 }} />}
      <ErrorAlert error={error} onRetry={() => void load()} />
      <Table<CompareRow> size="small" loading={loading} pagination={false} dataSource={rows}
        rowKey={(row) => `${row.source?.name ?? ""}>${row.target?.name ?? ""}`} scroll={{ y: 420 }}
        columns={[
          { title: t("mapping.keep"), key: "keep", width: 70, render: (_: unknown, row) => row.source
            ? <Checkbox checked={rule(row.source.name)?.keep ?? true} data-testid={`mapping-keep-${row.source.name}`}
                onChange={(event) => update(row.source!.name, { keep: event.target.checked })} /> : null },
          { title: t("mapping.sourceColumn"), key: "source", render: (_: unknown, row) => row.source
            ? <span>{row.source.name} <Typography.Text type="secondary" style={{ fontSize: 12 }}>{row.source.type}</Typography.Text></span> : "–" },
          { title: t("mapping.targetColumn"), key: "target", render: (_: unknown, row) => row.source
            ? <Input size="small" value={rule(row.source.name)?.target ?? row.source.name} disabled={!rule(row.source.name)?.keep}
                data-testid={`mapping-target-${row.source.name}`} onChange={(event) => update(row.source!.name, { target: event.target.value })}
                suffix={row.target?.type ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{row.target.type}</Typography.Text> : undefined} />
            : <span>{row.target?.name} <Typography.Text type="secondary" style={{ fontSize: 12 }}>{row.target?.type}</Typography.Text></span> },
          { title: t("mapping.status"), key: "status", width: 160, render: (_: unknown, row) => (
            <Tooltip title={row.messages.join(" ")}>
              <Tag color={COLORS[row.status]}>{t(`mapping.${row.status}`)}</Tag>
            </Tooltip>) },
        ]} />
    </div>
  );
}
