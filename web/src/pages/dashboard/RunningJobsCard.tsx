/** Jobs running now, each with its live progress. */
import { Button, Card, Empty, List, Progress, Space, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import type { JobSummary } from "../../api/jobs";
import StatusTag from "../../components/StatusTag";
import { formatDuration, formatNumber, formatRate } from "../../lib/format";
import type { LiveProgress } from "../monitoring/liveProgress";

interface Props {
  jobs: JobSummary[];
  progress: Record<string, LiveProgress>;
  loading: boolean;
}

export default function RunningJobsCard({ jobs, progress, loading }: Props) {
  const { t } = useTranslation("dashboard");
  const navigate = useNavigate();
  return (
    <Card title={t("running.title")} size="small" data-testid="dashboard-running" styles={{ body: { minHeight: 260 } }}>
      <List loading={loading} dataSource={jobs} rowKey="job_id"
        locale={{ emptyText: (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("running.empty")}>
            <Button onClick={() => navigate("/jobs")}>{t("goToJobs")}</Button>
          </Empty>
        ) }}
        renderItem={(job) => {
          const live = progress[job.job_id];
          const percent = live?.fraction_done !== null && live?.fraction_done !== undefined
            ? Math.round(live.fraction_done * 100) : null;
          return (
            <List.Item data-testid={`running-${job.job_id}`}>
              <div style={{ width: "100%" }}>
                <Space style={{ justifyContent: "space-between", width: "100%" }}>
                  <Typography.Text ellipsis style={{ maxWidth: 220 }}>
                    <Link to={`/jobs/${job.job_id}`}>{job.job_name}</Link>
                  </Typography.Text>
                  <StatusTag status={job.status} />
                </Space>
                <Progress percent={percent ?? 100} status={percent === null ? "active" : "normal"} showInfo={percent !== null} size="small" />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {live
                    ? t("running.detail", {
                      read: formatNumber(live.records_read), written: formatNumber(live.records_written),
                      rate: formatRate(live.records_per_second), elapsed: formatDuration(live.elapsed_seconds),
                    })
                    : t("running.waiting")}
                </Typography.Text>
              </div>
            </List.Item>
          );
        }} />
    </Card>
  );
}
