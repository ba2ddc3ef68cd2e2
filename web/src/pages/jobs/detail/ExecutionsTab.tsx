/** A job's runs, newest first, each expandable into its run summary (stages, rates). */
import { Descriptions, Empty, Table, Tag, Typography } from "antd";
import type { TableProps } from "antd";
import dayjs from "dayjs";
import { useTranslation } from "react-i18next";
import type { Page } from "../../../api/client";
import type { Execution } from "../../../api/jobs";
import StatusTag from "../../../components/StatusTag";
import { formatBytes, formatDuration, formatNumber, formatTime } from "../../../lib/format";

export function durationSeconds(execution: Pick<Execution, "start_time" | "end_time">): number | null {
  if (!execution.end_time) return null;
  return dayjs(execution.end_time).diff(dayjs(execution.start_time), "millisecond") / 1000;
}

interface Stage { name: string; plugin: string; records_in: number; records_out: number; records_filtered: number; records_failed: number; seconds: number }

function SummaryView({ execution }: { execution: Execution }) {
  const { t } = useTranslation("jobs");
  const summary = execution.summary ?? {};
  const stages = (summary.stages as Stage[] | undefined) ?? [];
  const value = (key: string) => summary[key] as number | string | null | undefined;
  return (
    <div data-testid={`execution-summary-${execution.execution_id}`}>
      <Descriptions size="small" column={4} bordered style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t("exec.splits")}>{formatNumber(value("splits_done") as number)} / {formatNumber(value("splits_total") as number)}</Descriptions.Item>
        <Descriptions.Item label={t("exec.bytesWritten")}>{formatBytes(value("bytes_written") as number)}</Descriptions.Item>
        <Descriptions.Item label={t("exec.retries")}>{formatNumber(value("retries") as number)}</Descriptions.Item>
        <Descriptions.Item label={t("exec.resumed")}>{summary.resumed ? t("yes") : t("no")}</Descriptions.Item>
        <Descriptions.Item label={t("exec.worker")}>{execution.worker_id ?? "–"}</Descriptions.Item>
        <Descriptions.Item label={t("exec.deadLetter")} span={3}><Typography.Text code>{String(value("dead_letter") ?? "–")}</Typography.Text></Descriptions.Item>
      </Descriptions>
      {stages.length > 0 && (
        <Table<Stage> size="small" rowKey="name" pagination={false} dataSource={stages}
          columns={[
            { title: t("exec.stage"), dataIndex: "name", render: (name: string, stage) => <>{name} <Tag>{stage.plugin}</Tag></> },
            { title: t("exec.in"), dataIndex: "records_in", align: "right", render: (v: number) => formatNumber(v) },
            { title: t("exec.out"), dataIndex: "records_out", align: "right", render: (v: number) => formatNumber(v) },
            { title: t("counter.filtered"), dataIndex: "records_filtered", align: "right", render: (v: number) => formatNumber(v) },
            { title: t("counter.failed"), dataIndex: "records_failed", align: "right", render: (v: number) => formatNumber(v) },
            { title: t("exec.time"), dataIndex: "seconds", align: "right", render: (v: number) => formatDuration(v) },
          ]} />
      )}
      {execution.error_message && <Typography.Paragraph type="danger" style={{ marginTop: 8, whiteSpace: "pre-wrap" }}>{execution.error_message}</Typography.Paragraph>}
    </div>
  );
}

interface Props {
  data: Page<Execution> | null;
  loading: boolean;
  page: number;
  onPage: (page: number, size: number) => void;
  pageSize: number;
}

export default function ExecutionsTab({ data, loading, page, pageSize, onPage }: Props) {
  const { t } = useTranslation("jobs");
  const columns: TableProps<Execution>["columns"] = [
    { title: t("col.status"), dataIndex: "status", width: 110, render: (status: string) => <StatusTag status={status} /> },
    { title: t("exec.trigger"), dataIndex: "trigger", width: 90, render: (value: string) => <Tag>{value}</Tag> },
    { title: t("exec.start"), dataIndex: "start_time", width: 165, render: (value: string) => formatTime(value) },
    { title: t("exec.duration"), key: "duration", width: 100, render: (_: unknown, row) => formatDuration(durationSeconds(row)) },
    { title: t("counter.read"), dataIndex: "records_read", align: "right", render: (v: number) => formatNumber(v) },
    { title: t("counter.written"), dataIndex: "records_written", align: "right", render: (v: number) => formatNumber(v) },
    { title: t("counter.filtered"), dataIndex: "records_filtered", align: "right", render: (v: number) => formatNumber(v) },
    { title: t("counter.failed"), dataIndex: "records_failed", align: "right", render: (v: number) => formatNumber(v) },
    { title: t("exec.bytes"), dataIndex: "bytes_transferred", align: "right", render: (v: number) => formatBytes(v) },
    { title: t("exec.error"), dataIndex: "error_message", ellipsis: true, render: (value: string | null) => value ?? "–" },
  ];
  return (
    <Table<Execution> rowKey="execution_id" size="small" data-testid="executions-table" loading={loading}
      columns={columns} dataSource={data?.items ?? []} scroll={{ x: 1000 }}
      onRow={(row) => ({ "data-testid": `execution-row-${row.execution_id}` } as React.HTMLAttributes<HTMLElement>)}
      expandable={{ expandedRowRender: (row) => <SummaryView execution={row} /> }}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("exec.empty")} /> }}
      pagination={{ current: page, pageSize, total: data?.total ?? 0, onChange: onPage, showSizeChanger: false }} />
  );
}
