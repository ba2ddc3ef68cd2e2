/** The previewed table's declared columns: type, FustGo's logical type, NULL, key, default. */
import { KeyOutlined } from "@ant-design/icons";
import { Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { SchemaColumn } from "../../api/preview";

export default function SchemaTable({ schema }: { schema: SchemaColumn[] }) {
  const { t } = useTranslation("preview");
  return (
    <Table<SchemaColumn> size="small" rowKey="name" pagination={false} dataSource={schema} data-testid="preview-schema"
      columns={[
        {
          title: t("schema.column"), dataIndex: "name",
          render: (name: string, row) => <>{row.primary_key ? <KeyOutlined style={{ color: "#d48806", marginRight: 4 }} /> : null}<Typography.Text strong>{name}</Typography.Text></>,
        },
        { title: t("schema.type"), dataIndex: "type", render: (value: string | null) => <Typography.Text code>{value ?? "–"}</Typography.Text> },
        { title: t("schema.logical"), dataIndex: "logical", render: (value?: string | null) => (value ? <Tag bordered={false}>{value}</Tag> : "–") },
        { title: t("schema.nullable"), dataIndex: "nullable", width: 100, render: (value?: boolean) => (value === false ? <Tag color="orange">NOT NULL</Tag> : t("schema.yes")) },
        { title: t("schema.default"), dataIndex: "default", render: (value: unknown) => (value === null || value === undefined ? "" : <Typography.Text code>{String(value)}</Typography.Text>) },
        { title: t("schema.comment"), dataIndex: "comment", render: (value?: string | null) => value ?? "" },
      ]} />
  );
}
