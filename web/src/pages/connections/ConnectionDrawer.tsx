/** Create or edit a saved connection: name, family, the family's connection form, and a test
 * before saving. Secrets the server masks are never shown: left empty, the saved one stays. */
import { ApiOutlined, LockOutlined } from "@ant-design/icons";
import { Alert, App, Button, Drawer, Form, Input, Select, Skeleton, Space, Tooltip } from "antd";
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import {
  CONNECTION_TYPES, MASK, connectionSchema, createConnection, rememberTest, secretFields, testConnection,
  testSettings, updateConnection, type Connection, type ConnectionConfig, type ConnectionTest,
} from "../../api/connections";
import type { JsonSchema } from "../../api/plugins";
import ErrorAlert from "../../components/ErrorAlert";
import { useTask } from "../../lib/useTask";
import { formErrors } from "./errors";
import SchemaForm from "./schemaForm";
import TestResult from "./TestResult";

interface Props {
  open: boolean;
  /** The connection being edited; null for a new one. */
  editing: Connection | null;
  onClose: () => void;
  onSaved: (connection: Connection) => void;
  onTested: (id: string) => void;
}

/** The saved config without its masked secrets (the form never holds the mask). */
function unmasked(config: ConnectionConfig): [ConnectionConfig, string[]] {
  const kept = Object.entries(config).filter(([, value]) => value === MASK).map(([name]) => name);
  return [Object.fromEntries(Object.entries(config).filter(([, value]) => value !== MASK)), kept];
}

export default function ConnectionDrawer({ open, editing, onClose, onSaved, onTested }: Props) {
  const { t } = useTranslation("connections");
  const { message } = App.useApp();
  const [name, setName] = useState("");
  const [type, setType] = useState<string>("postgresql");
  const [description, setDescription] = useState("");
  const [config, setConfig] = useState<ConnectionConfig>({});
  const [keptSecrets, setKeptSecrets] = useState<string[]>([]);
  const [dirty, setDirty] = useState(false);
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [schemaError, setSchemaError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [saving, runSave] = useTask(setError);
  const [testing, runTestTask] = useTask(setError);
  const [result, setResult] = useState<ConnectionTest | null>(null);
  const outcome = useRef<HTMLDivElement>(null);

  // The answer is below the form: bring it into view when it arrives.
  useEffect(() => {
    if (result || error) outcome.current?.scrollIntoView?.({ behavior: "smooth", block: "nearest" });
  }, [result, error]);

  useEffect(() => {
    if (!open) return;
    const [plain, kept] = editing ? unmasked(editing.config) : [{}, []];
    setName(editing?.name ?? "");
    setType(editing?.type ?? "postgresql");
    setDescription(editing?.description ?? "");
    setConfig(plain);
    setKeptSecrets(kept);
    setDirty(false);
    setError(null);
    setResult(null);
  }, [open, editing]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    setSchema(null);
    setSchemaError(null);
    connectionSchema(type).then((found) => live && setSchema(found)).catch((reason: unknown) => live && setSchemaError(reason));
    return () => { live = false; };
  }, [open, type]);

  const secrets = useMemo(() => (schema ? secretFields(schema) : []), [schema]);
  const errors = formErrors(error);

  /** What the server gets: a secret left empty keeps the saved one (sent as the mask). */
  const payloadConfig = (): ConnectionConfig => {
    const out = { ...config };
    for (const secret of keptSecrets) if (out[secret] === undefined || out[secret] === "") out[secret] = MASK;
    return out;
  };

  const change = (next: ConnectionConfig) => {
    setConfig(next);
    setDirty(true);
    setResult(null);
  };

  const chooseType = (next: string) => {
    setType(next);
    setConfig({});
    setDirty(true);
    setResult(null);
  };

  // A saved secret is not in the browser: an edited form with one can only be tested once saved.
  const usesKeptSecret = keptSecrets.some((secret) => config[secret] === undefined || config[secret] === "");
  const testBlocked = editing !== null && dirty && usesKeptSecret;

  const runTest = () => runTestTask(async () => {
    setResult(null);
    if (editing && !dirty) {
      const found = await testConnection(editing.connection_id);
      rememberTest(editing.connection_id, found);
      onTested(editing.connection_id);
      setResult(found);
    } else {
      setResult(await testSettings({ name: name || "unsaved", type, config }));
    }
  });

  const save = () => runSave(async () => {
    const saved = editing
      ? await updateConnection(editing.connection_id, { name, description: description || null, config: payloadConfig() })
      : await createConnection({ name, type, description: description || null, config });
    if (result && !editing) rememberTest(saved.connection_id, result);
    void message.success(t(editing ? "saved" : "created", { name: saved.name }));
    onSaved(saved);
  });

  return (
    <Drawer open={open} onClose={onClose} width={620} destroyOnHidden data-testid="connection-drawer"
      title={editing ? t("drawer.editTitle", { name: editing.name }) : t("drawer.createTitle")}
      footer={
        <Space style={{ display: "flex", justifyContent: "space-between" }}>
          <Tooltip title={testBlocked ? t("test.saveFirst") : undefined}>
            <Button icon={<ApiOutlined />} onClick={() => void runTest()} loading={testing} disabled={testBlocked || !schema}
              data-testid="connection-test">{t("test.button")}</Button>
          </Tooltip>
          <Space>
            <Button onClick={onClose}>{t("common:actions.cancel")}</Button>
            <Button type="primary" onClick={() => void save()} loading={saving} disabled={!name.trim() || !schema}
              data-testid="connection-save">{t("common:actions.save")}</Button>
          </Space>
        </Space>
      }>
      <Form layout="vertical" component="div">
        <Form.Item label={t("fields.name")} required validateStatus={errors.fields.name ? "error" : undefined}
          help={errors.fields.name}>
          <Input value={name} onChange={(event) => { setName(event.target.value); setDirty(true); }}
            placeholder={t("fields.namePlaceholder")} data-testid="connection-name" maxLength={255} />
        </Form.Item>
        <Form.Item label={t("fields.type")} required validateStatus={errors.fields.type ? "error" : undefined}
          help={errors.fields.type ?? (editing ? t("fields.typeFixed") : undefined)}>
          <Select value={type} onChange={chooseType} disabled={editing !== null} data-testid="connection-type"
            options={CONNECTION_TYPES.map((item) => ({ value: item.value, label: item.label }))} />
        </Form.Item>
        <Form.Item label={t("fields.description")}>
          <Input.TextArea value={description} autoSize={{ minRows: 1, maxRows: 4 }}
            onChange={(event) => { setDescription(event.target.value); setDirty(true); }} />
        </Form.Item>
      </Form>
      {keptSecrets.some((secret) => secrets.includes(secret)) && (
        <Alert type="info" showIcon icon={<LockOutlined />} style={{ marginBottom: 12 }}
          message={t("secretKept", { fields: keptSecrets.join(", ") })} />
      )}
      <ErrorAlert error={schemaError} />
      {schema ? (
        <SchemaForm schema={schema} value={config} onChange={change} errors={errors.config} omit={[]} />
      ) : !schemaError && <Skeleton active />}
      <div style={{ marginTop: 16 }} ref={outcome}>
        <ErrorAlert error={error} />
        {result && <TestResult result={result} />}
      </div>
    </Drawer>
  );
}
