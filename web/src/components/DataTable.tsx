/**
 * Records as a table: one column per field with its type under the name, and per-column
 * statistics (null ratio, distinct values, top values, min/max, text lengths) as a short line
 * in the header and in full in a popover. Used by the data preview; any page that has rows,
 * column types and `ColumnStats` (api/preview.ts) can show them the same way.
 */
import { BarChartOutlined, KeyOutlined } from "@ant-design/icons";
import { Empty, Popover, Progress, Space, Table, Tag, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useMemo, type CSSProperties, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { ColumnStats, SchemaColumn } from "../api/preview";
import { formatNumber, formatPercent } from "../lib/format";

export interface DataTableColumn {
  name: string;
  /** The type shown under the name: the database's (`varchar(50)`) or FustGo's logical one. */
  type?: string | null;
}

export interface DataTableProps {
  columns: DataTableColumn[];
  rows: unknown[][];
  /** Declared columns (nullable, primary key, logical type); matched by name. */
  schema?: SchemaColumn[];
  stats?: ColumnStats[];
  loading?: boolean;
  /** Height of the scrolling body; the header stays put. */
  height?: number;
  empty?: ReactNode;
  "data-testid"?: string;
}

/** A cell's value as text: NULL apart, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function Cell({ value }: { value: unknown }) {
  if (value === null || value === undefined) {
    return <Typography.Text type="secondary" italic>NULL</Typography.Text>;
  }
  const text = cellText(value);
  return (
    <Typography.Text ellipsis={{ tooltip: text.length > 40 ? text : false }} style={{ maxWidth: 320 }}>
      {text}
    </Typography.Text>
  );
}

// Inline styles: the shared stylesheet belongs to the app shell.
const STAT_LINE: CSSProperties = { display: "flex", justifyContent: "space-between", gap: 12 };
const STAT_TOP: CSSProperties = { display: "grid", gridTemplateColumns: "150px 70px auto", gap: 8, alignItems: "center" };

function StatsDetails({ stats }: { stats: ColumnStats }) {
  const { t } = useTranslation("preview");
  const line = (label: string, value: ReactNode) => (
    <div style={STAT_LINE}><Typography.Text type="secondary">{label}</Typography.Text><span>{value}</span></div>
  );
  return (
    <div style={{ width: 280 }} data-testid={`stats-${stats.name}`}>
      {line(t("stats.rows"), formatNumber(stats.rows))}
      {line(t("stats.nulls"), `${formatNumber(stats.null_count)} (${formatPercent(stats.null_ratio)})`)}
      {stats.distinct !== undefined && line(t("stats.distinct"), formatNumber(stats.distinct))}
      {stats.min !== undefined && line(t("stats.min"), cellText(stats.min))}
      {stats.max !== undefined && line(t("stats.max"), cellText(stats.max))}
      {stats.min_length !== undefined &&
        line(t("stats.length"), `${formatNumber(stats.min_length)} – ${formatNumber(stats.max_length)}`)}
      {stats.top_values && stats.top_values.length > 0 && (
        <>
          <Typography.Text type="secondary" style={{ display: "block", marginTop: 8 }}>{t("stats.top")}</Typography.Text>
          {stats.top_values.map((item, index) => (
            <div key={index} style={STAT_TOP}>
              <Typography.Text ellipsis style={{ maxWidth: 150 }}>{cellText(item.value)}</Typography.Text>
              <Progress percent={stats.rows ? (item.count / stats.rows) * 100 : 0} size="small" showInfo={false}
                style={{ width: 70, margin: 0 }} />
              <span>{formatNumber(item.count)}</span>
            </div>
          ))}
        </>
      )}
      <Typography.Text type="secondary" style={{ display: "block", marginTop: 8, fontSize: 12 }}>
        {t("stats.sampleNote")}
      </Typography.Text>
    </div>
  );
}

function Header({ column, declared, stats }: { column: DataTableColumn; declared?: SchemaColumn; stats?: ColumnStats }) {
  const { t } = useTranslation("preview");
  const type = column.type ?? declared?.type ?? declared?.logical ?? null;
  const summary = stats
    ? [
        `${t("stats.nullShort")} ${formatPercent(stats.null_ratio, 0)}`,
        stats.distinct !== undefined ? t("stats.distinctShort", { count: stats.distinct }) : null,
      ].filter(Boolean).join(" · ")
    : null;
  return (
    <div style={{ minWidth: 120 }} data-testid={`column-${column.name}`}>
      <Space size={4} wrap={false}>
        {declared?.primary_key ? (
          <Tooltip title={t("stats.primaryKey")}><KeyOutlined style={{ color: "#d48806" }} /></Tooltip>
        ) : null}
        <span style={{ fontWeight: 600 }}>{column.name}</span>
        {stats && (
          <Popover title={column.name} content={<StatsDetails stats={stats} />} trigger={["hover", "click"]}>
            <BarChartOutlined style={{ color: "#1677ff", cursor: "pointer" }} aria-label={t("stats.title")}
              data-testid={`stats-icon-${column.name}`} />
          </Popover>
        )}
      </Space>
      {type && (
        <div>
          <Tag bordered={false} style={{ fontWeight: 400, fontSize: 11 }}>{type}</Tag>
          {declared && declared.nullable === false && <Tag bordered={false} color="orange">{t("stats.notNull")}</Tag>}
        </div>
      )}
      {summary && <div style={{ fontWeight: 400, fontSize: 12, color: "#8c8c8c", whiteSpace: "nowrap" }} data-testid={`summary-${column.name}`}>{summary}</div>}
    </div>
  );
}

export default function DataTable(props: DataTableProps) {
  const { t } = useTranslation("preview");
  const { columns, rows, schema, stats, loading, height = 440, empty } = props;

  const tableColumns = useMemo<ColumnsType<{ key: number; row: unknown[] }>>(() => {
    const declaredBy = new Map((schema ?? []).map((item) => [item.name, item]));
    const statsBy = new Map((stats ?? []).map((item) => [item.name, item]));
    return columns.map((column, index) => ({
      key: `${index}-${column.name}`,
      title: <Header column={column} declared={declaredBy.get(column.name)} stats={statsBy.get(column.name)} />,
      render: (_: unknown, record) => <Cell value={record.row[index]} />,
      onCell: () => ({ style: { whiteSpace: "nowrap" } }),
    }));
  }, [columns, schema, stats]);

  const data = useMemo(() => rows.map((row, index) => ({ key: index, row })), [rows]);

  return (
    <Table<{ key: number; row: unknown[] }>
      data-testid={props["data-testid"] ?? "data-table"}
      className="fg-data-table"
      size="small"
      bordered
      loading={loading}
      columns={tableColumns}
      dataSource={data}
      pagination={data.length > 50 ? { pageSize: 50, showSizeChanger: false, size: "small" } : false}
      scroll={{ x: "max-content", y: height }}
      locale={{ emptyText: empty ?? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("noRows")} /> }}
    />
  );
}
