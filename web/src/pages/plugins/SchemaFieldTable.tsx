/** A config schema as a readable field table: name, type, default, required, description;
 * nested objects as expanded child rows. */
import { LockOutlined } from "@ant-design/icons";
import { Table, Tag, Tooltip, Typography } from "antd";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { JsonSchema } from "../../api/plugins";
import { defaultText, rows, type FieldRow } from "./schemaFields";

export default function SchemaFieldTable({ schema }: { schema: JsonSchema }) {
  const { t } = useTranslation("plugins");
  const data = useMemo(() => rows(schema), [schema]);
  const expanded = useMemo(() => {
    const keys: string[] = [];
    const walk = (list: FieldRow[]) => list.forEach((row) => {
      if (row.children) { keys.push(row.key); walk(row.children); }
    });
    walk(data);
    return keys;
  }, [data]);

  return (
    <Table<FieldRow>
      data-testid="plugin-schema-table"
      size="small"
      rowKey="key"
      pagination={false}
      dataSource={data}
      expandable={{ defaultExpandedRowKeys: expanded, indentSize: 14 }}
      scroll={{ x: 760 }}
      columns={[
        {
          title: t("schema.name"), dataIndex: "name", width: 200,
          render: (name: string, row) => (
            <span style={{ whiteSpace: "nowrap" }}>
              <Typography.Text code>{name}</Typography.Text>
              {row.secret && <Tooltip title={t("schema.secret")}><LockOutlined style={{ color: "#8c8c8c" }} /></Tooltip>}
            </span>
          ),
        },
        {
          title: t("schema.type"), dataIndex: "type", width: 170,
          render: (type: string, row) => (
            <>
              <Typography.Text style={{ fontFamily: "monospace", fontSize: 12, wordBreak: "break-word" }}>{type}</Typography.Text>
              {row.unit && <Tag bordered={false} style={{ marginLeft: 4 }}>{row.unit}</Tag>}
            </>
          ),
        },
        {
          title: t("schema.default"), key: "default", width: 110,
          render: (_: unknown, row) => {
            const text = defaultText(row);
            return text ? <Typography.Text code ellipsis={{ tooltip: text }} style={{ maxWidth: 100 }}>{text}</Typography.Text> : null;
          },
        },
        {
          title: t("schema.required"), dataIndex: "required", width: 80, align: "center",
          render: (required: boolean) => (required ? <Tag color="red" bordered={false}>{t("schema.yes")}</Tag> : null),
        },
        {
          title: t("schema.description"), dataIndex: "description",
          render: (description: string, row) => (
            <>
              {row.advanced && <Tag bordered={false} color="purple">{t("schema.advanced")}</Tag>}
              {row.group && <Tag bordered={false}>{row.group}</Tag>}
              <Typography.Text style={{ fontSize: 13, whiteSpace: "pre-line" }}>{description}</Typography.Text>
            </>
          ),
        },
      ]}
    />
  );
}
