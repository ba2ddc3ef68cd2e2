/** Where a preview reads: a saved connection or unsaved settings (type + connection form),
 * and a table or (sources only) a query. */
import { AutoComplete, Input, Segmented, Select, Skeleton, Space, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { CONNECTION_TYPES, connectionSchema, type Connection } from "../../api/connections";
import type { JsonSchema } from "../../api/plugins";
import type { DataRef } from "../../api/preview";
import ErrorAlert from "../../components/ErrorAlert";
import SchemaForm from "../connections/schemaForm";
import useTableOptions from "./useTableOptions";

export interface Endpoint {
  mode: "saved" | "settings";
  connectionId?: string;
  type: string;
  config: Record<string, unknown>;
  what: "table" | "sql";
  table: string;
  sql: string;
}

export const emptyEndpoint = (connectionId?: string, table = ""): Endpoint => ({
  mode: "saved", connectionId, type: "postgresql", config: {}, what: "table", table, sql: "",
});

/** The request's `DataRef`, or null while something it needs is missing. */
export function toRef(endpoint: Endpoint): DataRef | null {
  const target = endpoint.what === "sql" ? { sql: endpoint.sql.trim() } : { table: endpoint.table.trim() };
  if (!(target.sql ?? target.table)) return null;
  if (endpoint.mode === "saved") {
    return endpoint.connectionId ? { connection_id: endpoint.connectionId, ...target } : null;
  }
  return { connection: { type: endpoint.type, config: endpoint.config }, ...target };
}

interface Props {
  value: Endpoint;
  onChange: (value: Endpoint) => void;
  connections: Connection[] | null;
  /** Queries are for sources; a target is a table. */
  allowSql?: boolean;
  testid: string;
  onSubmit?: () => void;
}

export default function EndpointPicker({ value, onChange, connections, allowSql = true, testid, onSubmit }: Props) {
  const { t } = useTranslation("preview");
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [schemaError, setSchemaError] = useState<unknown>(null);
  const set = (patch: Partial<Endpoint>) => onChange({ ...value, ...patch });

  useEffect(() => {
    if (value.mode !== "settings") return;
    let live = true;
    setSchema(null);
    setSchemaError(null);
    connectionSchema(value.type).then((found) => live && setSchema(found)).catch((reason: unknown) => live && setSchemaError(reason));
    return () => { live = false; };
  }, [value.mode, value.type]);

  const what = allowSql ? value.what : "table";
  const tables = useTableOptions(value.mode === "saved" ? value.connectionId : undefined, value.table);
  const needle = value.table.trim().toLowerCase();
  const tableOptions = tables
    .map((item) => `${item.schema}.${item.name}`)
    .filter((name) => !needle || name.toLowerCase().includes(needle))
    .slice(0, 50)
    .map((name) => ({ value: name }));
  return (
    <Space direction="vertical" style={{ width: "100%" }} size={10} data-testid={testid}>
      <Segmented<Endpoint["mode"]> size="small" value={value.mode} onChange={(mode) => set({ mode })}
        options={[{ value: "saved", label: t("picker.saved") }, { value: "settings", label: t("picker.settings") }]} />
      {value.mode === "saved" ? (
        <>
          <Select showSearch optionFilterProp="label" style={{ width: "100%" }} placeholder={t("picker.connection")}
            loading={connections === null} value={value.connectionId} onChange={(connectionId) => set({ connectionId })}
            data-testid={`${testid}-connection`}
            options={(connections ?? []).map((item) => ({ value: item.connection_id, label: `${item.name} (${item.type})` }))}
            notFoundContent={<Typography.Text type="secondary">{t("picker.noConnections")} <Link to="/connections">{t("picker.addConnection")}</Link></Typography.Text>} />
        </>
      ) : (
        <>
          <Select style={{ width: "100%" }} value={value.type} onChange={(type) => set({ type, config: {} })}
            options={CONNECTION_TYPES.map((item) => ({ value: item.value, label: item.label }))} />
          <ErrorAlert error={schemaError} />
          {schema ? <SchemaForm schema={schema} value={value.config} onChange={(config) => set({ config })} omit={[]} />
            : !schemaError && <Skeleton active paragraph={{ rows: 3 }} />}
        </>
      )}
      {allowSql && (
        <Segmented<Endpoint["what"]> size="small" value={what} onChange={(next) => set({ what: next })}
          options={[{ value: "table", label: t("picker.table") }, { value: "sql", label: t("picker.sql") }]}
          data-testid={`${testid}-what`} />
      )}
      {what === "table" ? (
        <AutoComplete value={value.table} options={tableOptions} onChange={(table: string) => set({ table: table ?? "" })}
          style={{ width: "100%" }}>
          <Input placeholder={t("picker.tablePlaceholder")} onPressEnter={onSubmit} data-testid={`${testid}-table`} allowClear />
        </AutoComplete>
      ) : (
        <Input.TextArea value={value.sql} onChange={(event) => set({ sql: event.target.value })}
          placeholder="SELECT * FROM public.orders WHERE status = 'paid'" autoSize={{ minRows: 3, maxRows: 10 }}
          style={{ fontFamily: "monospace" }} data-testid={`${testid}-sql`} />
      )}
    </Space>
  );
}
