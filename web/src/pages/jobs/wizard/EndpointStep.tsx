/** The source or target of the wizard: a plugin, its connection (a saved one or typed in),
 * its table or files, every other setting, a connection test and (source) a data preview. */
import { ApiOutlined, EyeOutlined } from "@ant-design/icons";
import { Alert, Button, Collapse, Form, Input, Select, Space, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { listConnections, MASK, testConnection, testSettings, type Connection, type ConnectionTest } from "../../../api/connections";
import { listPlugins, type PluginSummary } from "../../../api/plugins";
import { previewSource, type PreviewResult } from "../../../api/preview";
import DataTable from "../../../components/DataTable";
import ErrorAlert, { errorText } from "../../../components/ErrorAlert";
import AdvancedSettings from "./AdvancedSettings";
import { FILES, getPath, RDB, withPath, type Endpoint } from "./model";

const WRITE_MODES = ["insert", "update", "upsert", "replace", "merge", "truncate"];
const FAMILY_ORDER = ["rdb", "file"];

interface Props {
  side: "source" | "target";
  value: Endpoint;
  onChange: (value: Endpoint) => void;
}

/** A saved connection's settings for the YAML: a masked secret becomes an environment variable. */
export function connectionSettings(connection: Connection): { config: Record<string, unknown>; secrets: string[] } {
  const secrets: string[] = [];
  const config = Object.fromEntries(Object.entries(connection.config).map(([key, value]) => {
    if (value !== MASK) return [key, value];
    const variable = `${connection.name}_${key}`.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
    secrets.push(variable);
    return [key, `\${${variable}}`];
  }));
  return { config, secrets };
}

export default function EndpointStep({ side, value, onChange }: Props) {
  const { t } = useTranslation("jobs");
  const kind = side === "source" ? "input" : "output";
  const [plugins, setPlugins] = useState<PluginSummary[]>([]);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [test, setTest] = useState<ConnectionTest | null>(null);
  const [testing, setTesting] = useState(false);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [secrets, setSecrets] = useState<string[]>([]);

  useEffect(() => {
    listPlugins({ kind }).then((page) => setPlugins(page.items.filter((item) => item.enabled))).catch(() => setPlugins([]));
    listConnections({ page_size: 500 }).then((page) => setConnections(page.items)).catch(() => setConnections([]));
  }, [kind]);

  const ordered = [...plugins].sort((a, b) => {
    const rank = (plugin: PluginSummary) => { const index = FAMILY_ORDER.indexOf(plugin.family); return index < 0 ? 9 : index; };
    return rank(a) - rank(b) || a.name.localeCompare(b.name);
  });
  const isDb = RDB.has(value.plugin);
  const isFile = FILES.has(value.plugin);
  const set = (path: string[], item: unknown) => onChange({ ...value, config: withPath(value.config, path, item) });
  const tablePath = side === "source" ? ["query", "table"] : ["write", "table"];

  const choosePlugin = (plugin: string) => {
    setTest(null); setPreview(null); setSecrets([]);
    onChange({ plugin, config: {} });
  };
  const chooseConnection = (id: string | undefined) => {
    const connection = connections.find((item) => item.connection_id === id);
    setTest(null);
    if (!connection) { onChange({ ...value, connectionId: undefined, config: withPath(value.config, ["connection"], undefined) }); return; }
    const settings = connectionSettings(connection);
    setSecrets(settings.secrets);
    onChange({ ...value, connectionId: id, config: { ...value.config, connection: settings.config } });
  };

  const runTest = async () => {
    setTesting(true);
    try {
      setTest(value.connectionId
        ? await testConnection(value.connectionId)
        : await testSettings({ name: "wizard", type: value.plugin, config: (value.config.connection as Record<string, unknown>) ?? {} }));
    } catch (error) {
      setTest({ ok: false, error: errorText(error), server: null });
    } finally {
      setTesting(false);
    }
  };

  const runPreview = async () => {
    setPreviewing(true);
    setPreviewError(null);
    try {
      const yaml = (await import("yaml")).stringify({ name: "wizard-preview", input: { type: value.plugin, ...value.config }, output: { type: "drop" } });
      setPreview(await previewSource({ config_yaml: yaml }, 20));
    } catch (error) {
      setPreview(null);
      setPreviewError(error);
    } finally {
      setPreviewing(false);
    }
  };

  const usable = connections.filter((item) => item.type === value.plugin);

  return (
    <Form layout="vertical" style={{ maxWidth: 900 }}>
      <Form.Item label={t(`wizard.${side}Plugin`)} required>
        <Select showSearch value={value.plugin || undefined} placeholder={t("wizard.pickPlugin")} data-testid={`wizard-${side}-plugin`}
          onChange={choosePlugin} optionFilterProp="label"
          options={ordered.map((plugin) => ({ value: plugin.name, label: `${plugin.name} — ${plugin.title}`, family: plugin.family }))}
          optionRender={(option) => <Space><Tag>{String(option.data.family)}</Tag>{option.label}</Space>} />
      </Form.Item>

      {isDb && (
        <>
          <Form.Item label={t("wizard.savedConnection")} extra={usable.length ? undefined : t("wizard.noSaved", { type: value.plugin })}>
            <Select allowClear value={value.connectionId} placeholder={t("wizard.pickConnection")} data-testid={`wizard-${side}-connection`}
              onChange={chooseConnection} options={usable.map((item) => ({ value: item.connection_id, label: item.name }))} />
          </Form.Item>
          {secrets.length > 0 && <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t("wizard.secretsAsEnv", { names: secrets.join(", ") })} />}
          <Form.Item label={t("wizard.table")} required={side === "target"}>
            <Input value={String(getPath(value.config, tablePath) ?? "")} placeholder="shop.orders" data-testid={`wizard-${side}-table`}
              onChange={(event) => set(tablePath, event.target.value)} />
          </Form.Item>
          {side === "source" && (
            <Form.Item label={t("wizard.sql")} extra={t("wizard.sqlHelp")}>
              <Input.TextArea value={String(getPath(value.config, ["query", "sql"]) ?? "")} autoSize={{ minRows: 2, maxRows: 6 }}
                style={{ fontFamily: "monospace" }} onChange={(event) => set(["query", "sql"], event.target.value)} />
            </Form.Item>
          )}
          {side === "target" && (
            <Space size={16} wrap>
              <Form.Item label={t("wizard.writeMode")} style={{ minWidth: 200 }}>
                <Select value={String(getPath(value.config, ["write", "mode"]) ?? "insert")} data-testid="wizard-target-mode"
                  onChange={(mode) => set(["write", "mode"], mode)}
                  options={WRITE_MODES.map((mode) => ({ value: mode, label: `${mode} — ${t(`writeMode.${mode}`)}` }))} style={{ width: 320 }} />
              </Form.Item>
              <Form.Item label={t("wizard.conflictKey")} extra={t("wizard.conflictKeyHelp")}>
                <Select mode="tags" style={{ width: 320 }} value={(getPath(value.config, ["write", "conflict_key"]) as string[] | undefined) ?? []}
                  onChange={(keys: string[]) => set(["write", "conflict_key"], keys)} />
              </Form.Item>
            </Space>
          )}
        </>
      )}

      {isFile && side === "source" && (
        <Form.Item label={t("wizard.paths")} required extra={t("wizard.pathsHelp")}>
          <Input.TextArea data-testid="wizard-source-paths" autoSize={{ minRows: 2, maxRows: 6 }} placeholder="data/orders-*.csv"
            value={((getPath(value.config, ["paths"]) as string[] | undefined) ?? []).join("\n")}
            onChange={(event) => set(["paths"], event.target.value.split("\n").map((line) => line.trim()).filter(Boolean))} />
        </Form.Item>
      )}
      {isFile && side === "target" && (
        <Form.Item label={t("wizard.path")} required>
          <Input data-testid="wizard-target-path" placeholder="out/orders.csv" value={String(getPath(value.config, ["path"]) ?? "")}
            onChange={(event) => set(["path"], event.target.value)} />
        </Form.Item>
      )}

      {value.plugin && (
        <Collapse size="small" style={{ marginBottom: 16 }} items={[{
          key: "all", label: t("wizard.allSettings", { plugin: value.plugin }),
          children: <AdvancedSettings kind={kind} plugin={value.plugin} value={value.config} testId={`wizard-${side}-settings`}
            onChange={(config) => onChange({ ...value, config })} />,
        }]} />
      )}

      {value.plugin && (
        <Space wrap style={{ marginBottom: 12 }}>
          {isDb && <Button icon={<ApiOutlined />} loading={testing} onClick={() => void runTest()} data-testid={`wizard-${side}-test`}>{t("wizard.testConnection")}</Button>}
          {side === "source" && <Button icon={<EyeOutlined />} loading={previewing} onClick={() => void runPreview()} data-testid="wizard-source-preview">{t("wizard.previewSource")}</Button>}
        </Space>
      )}
      {test && (test.ok
        ? <Alert type="success" showIcon data-testid={`wizard-${side}-test-result`} message={t("wizard.testOk", { product: test.server?.product ?? value.plugin, version: test.server?.version ?? "" })} style={{ marginBottom: 12 }} />
        : <Alert type="error" showIcon data-testid={`wizard-${side}-test-result`} message={t("wizard.testFailed")} description={test.error} style={{ marginBottom: 12 }} />)}
      <ErrorAlert error={previewError} />
      {preview && (
        <div data-testid="wizard-source-preview-table">
          <Typography.Text type="secondary">{t("wizard.previewRows", { count: preview.row_count })}</Typography.Text>
          <DataTable columns={preview.columns} rows={preview.rows} schema={preview.schema} stats={preview.stats} height={260} />
        </div>
      )}
    </Form>
  );
}
