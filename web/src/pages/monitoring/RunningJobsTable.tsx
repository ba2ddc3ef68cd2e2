/** Every running job with its live progress (from the WebSocket), one row each. */
import { Card, Empty, Progress, Table } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import type { JobSummary } from "../../api/jobs";
import StatusTag from "../../components/StatusTag";
import { formatDuration, formatNumber, formatRate } from "../../lib/format";
import type { LiveProgress } from "./liveProgress";

interface Props {
  jobs: JobSummary[];
  progress: Record<string, LiveProgress>;
  loading: boolean;
}

export default function RunningJobsTable({ jobs, progress, loading }: Props) {
  const { t } = useTranslation("monitoring");
  const live = (job: JobSummary) => progress[job.job_id];
  const columns: ColumnsType<JobSummary> = [
    { title: t("running.job"), dataIndex: "job_name", ellipsis: true, render: (name: string, job) => <Link to={`/jobs/${job.job_id}`}>{name}</Link> },
    { title: t("running.status"), dataIndex: "status", width: 110, render: (status: string) => <StatusTag status={status} /> },
    { title: t("running.progress"), width: 200, render: (_, job) => {
      const fraction = live(job)?.fraction_done;
      return fraction === null || fraction === undefined
        ? <Progress percent={100} status="active" showInfo={false} size="small" />
        : <Progress percent={Math.round(fraction * 100)} size="small" />;
    } },
    { title: t("running.read"), width: 110, align: "right", render: (_, job) => formatNumber(live(job)?.records_read) },
    { title: t("running.written"), width: 110, align: "right", render: (_, job) => formatNumber(live(job)?.records_written) },
    { title: t("running.failed"), width: 90, align: "right", render: (_, job) => formatNumber(live(job)?.records_failed) },
    { title: t("running.rate"), width: 110, align: "right", render: (_, job) => {
      const item = live(job);
      return item ? formatRate(item.records_per_second) : "–"; // the run's average: steadier than the last second
    } },
    { title: t("running.elapsed"), width: 120, render: (_, job) => formatDuration(live(job)?.elapsed_seconds) },
  ];
  return (
    <Card size="small" title={t("running.title")} data-testid="monitoring-running">
      <Table<JobSummary> size="small" rowKey="job_id" loading={loading} dataSource={jobs} columns={columns}
        pagination={false} tableLayout="fixed"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("running.empty")} /> }} />
    </Card>
  );
}
