/** The latest runs of every job, and the latest failures with their error. */
import { Button, Card, Empty, Table, Tabs, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import StatusTag from "../../components/StatusTag";
import { formatDuration, formatNumber, formatTime } from "../../lib/format";
import { isFailed, type RunOfJob } from "./activity";

const SHOWN = 8;

function duration(run: RunOfJob): number | null {
  if (!run.end_time) return (Date.now() - Date.parse(run.start_time)) / 1000;
  return (Date.parse(run.end_time) - Date.parse(run.start_time)) / 1000;
}

export default function RecentRunsCard({ runs, loading }: { runs: RunOfJob[]; loading: boolean }) {
  const { t } = useTranslation("dashboard");
  const navigate = useNavigate();
  const failures = runs.filter((run) => isFailed(run.status));
  const job: ColumnsType<RunOfJob>[number] = {
    title: t("runs.job"), dataIndex: "job_name", ellipsis: true,
    render: (name: string, run) => <Link to={`/jobs/${run.job_id}`}>{name}</Link>,
  };
  const started: ColumnsType<RunOfJob>[number] = {
    title: t("runs.started"), dataIndex: "start_time", width: 170, render: (value: string) => formatTime(value),
  };
  const status: ColumnsType<RunOfJob>[number] = {
    title: t("runs.status"), dataIndex: "status", width: 110, render: (value: string) => <StatusTag status={value} />,
  };
  const recentColumns: ColumnsType<RunOfJob> = [
    job, status, started,
    { title: t("runs.duration"), width: 110, render: (_, run) => formatDuration(duration(run)) },
    { title: t("runs.written"), dataIndex: "records_written", width: 110, align: "right", render: (value: number) => formatNumber(value) },
    { title: t("runs.failedRecords"), dataIndex: "records_failed", width: 90, align: "right", render: (value: number) => formatNumber(value) },
  ];
  const failureColumns: ColumnsType<RunOfJob> = [
    { ...job, width: 200 }, started,
    { title: t("runs.error"), dataIndex: "error_message", ellipsis: true,
      render: (value: string | null) => <Typography.Text type="danger" ellipsis={{ tooltip: value }}>{value ?? t("runs.noMessage")}</Typography.Text> },
  ];
  const empty = (text: string) => (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={text}>
      <Button onClick={() => navigate("/jobs")}>{t("goToJobs")}</Button>
    </Empty>
  );
  return (
    <Card size="small" data-testid="dashboard-recent-runs" styles={{ body: { paddingTop: 0 } }}>
      <Tabs items={[
        { key: "recent", label: t("runs.recent"), children: (
          <Table<RunOfJob> size="small" rowKey="execution_id" loading={loading} pagination={false}
            dataSource={runs.slice(0, SHOWN)} columns={recentColumns} tableLayout="fixed"
            locale={{ emptyText: empty(t("runs.empty")) }} data-testid="recent-runs-table" />
        ) },
        { key: "failures", label: t("runs.failures", { count: failures.length }), children: (
          <Table<RunOfJob> size="small" rowKey="execution_id" loading={loading} pagination={false}
            dataSource={failures.slice(0, SHOWN)} columns={failureColumns} tableLayout="fixed"
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("runs.noFailures")} /> }} />
        ) },
      ]} />
    </Card>
  );
}
