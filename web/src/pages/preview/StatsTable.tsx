/** Every column's statistics in one table (the sample's: computed on the rows shown). */
import { Progress, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { ColumnStats } from "../../api/preview";
import { cellText } from "../../components/DataTable";
import { formatNumber, formatPercent } from "../../lib/format";

export default function StatsTable({ stats }: { stats: ColumnStats[] }) {
  const { t } = useTranslation("preview");
  return (
    <Table<ColumnStats> size="small" rowKey="name" pagination={false} dataSource={stats} data-testid="preview-stats"
      scroll={{ x: 900 }}
      columns={[
        { title: t("schema.column"), dataIndex: "name", width: 180, render: (name: string) => <Typography.Text strong>{name}</Typography.Text> },
        {
          title: t("stats.nulls"), key: "nulls", width: 180,
          render: (_, row) => (
            <div style={{ display: "flex", alignItems: "center", gap: 8 }}>
              <Progress percent={row.null_ratio * 100} showInfo={false} size="small" style={{ width: 70, margin: 0 }}
                strokeColor={row.null_ratio > 0.5 ? "#faad14" : undefined} />
              <span style={{ whiteSpace: "nowrap" }}>{formatPercent(row.null_ratio)} ({formatNumber(row.null_count)})</span>
            </div>
          ),
        },
        { title: t("stats.distinct"), dataIndex: "distinct", width: 90, render: (value?: number) => formatNumber(value) },
        {
          title: t("stats.range"), key: "range", width: 260,
          render: (_, row) => (row.min !== undefined
            ? <Typography.Text code style={{ fontSize: 12 }}>{cellText(row.min)} … {cellText(row.max)}</Typography.Text>
            : row.min_length !== undefined
              ? <Typography.Text type="secondary">{t("stats.lengthRange", { min: row.min_length, max: row.max_length })}</Typography.Text>
              : "–"),
        },
        {
          title: t("stats.top"), key: "top",
          render: (_, row) => (row.top_values ?? []).map((item, index) => (
            <Tag key={index} bordered={false} style={{ maxWidth: 220, overflow: "hidden", textOverflow: "ellipsis" }}>
              {cellText(item.value)} <Typography.Text type="secondary">×{formatNumber(item.count)}</Typography.Text>
            </Tag>
          )),
        },
      ]} />
  );
}
