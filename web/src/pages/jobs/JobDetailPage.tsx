/** /jobs/:jobId: the job's header and actions, then Overview, Executions, Logs, Configuration. */
import { ArrowLeftOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, Card, Empty, Result, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router-dom";
import { ApiError, type Page } from "../../api/client";
import { getJob, listExecutions, type Execution, type Job, type JobStatus } from "../../api/jobs";
import { useLiveEvents } from "../../api/live";
import { getSchedule, type JobSchedule } from "../../api/schedule";
import ErrorAlert from "../../components/ErrorAlert";
import StatusTag from "../../components/StatusTag";
import { formatTime } from "../../lib/format";
import ConfigTab from "./detail/ConfigTab";
import ExecutionsTab from "./detail/ExecutionsTab";
import LogsTab from "./detail/LogsTab";
import OverviewTab, { type LiveProgress } from "./detail/OverviewTab";
import JobRowActions from "./list/JobRowActions";
import { useJobAction } from "./useJobAction";

const EXEC_PAGE = 20;

export default function JobDetailPage() {
  const { jobId = "" } = useParams();
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [schedule, setSchedule] = useState<JobSchedule | null>(null);
  const [executions, setExecutions] = useState<Page<Execution> | null>(null);
  const [execPage, setExecPage] = useState(1);
  const [execLoading, setExecLoading] = useState(true);
  const [live, setLive] = useState<LiveProgress | null>(null);
  const [tab, setTab] = useState("overview");

  const loadJob = useCallback(async () => {
    try {
      setJob(await getJob(jobId));
      setError(null);
      getSchedule(jobId).then(setSchedule).catch(() => setSchedule(null));
    } catch (caught) {
      setError(caught);
    }
  }, [jobId]);

  const loadExecutions = useCallback(async () => {
    setExecLoading(true);
    try {
      setExecutions(await listExecutions(jobId, { page: execPage, page_size: EXEC_PAGE }));
    } catch (caught) {
      setError(caught);
    } finally {
      setExecLoading(false);
    }
  }, [jobId, execPage]);

  useEffect(() => { void loadJob(); }, [loadJob]);
  useEffect(() => { void loadExecutions(); }, [loadExecutions]);

  useLiveEvents(jobId, (event) => {
    if (event.type === "job_progress") setLive(event.data as unknown as LiveProgress);
    if (event.type === "job_status") {
      const status = event.data.status as JobStatus | null;
      if (status) setJob((current) => current && { ...current, status });
      // A run that starts or ends changes the executions and the job's next runs.
      void loadExecutions();
      if (event.data.execution_status !== "running") void loadJob();
    }
  });

  const { run, busy } = useJobAction((action) => {
    if (action === "delete") navigate("/jobs");
    else {
      if (action === "start" || action === "resume") setLive(null);
      void loadJob();
      void loadExecutions();
    }
  });

  if (error instanceof ApiError && error.status === 404) {
    return <Result status="404" title={t("detail.notFound")} subTitle={error.message}
      extra={<Button type="primary" onClick={() => navigate("/jobs")}>{t("detail.backToList")}</Button>} />;
  }
  if (!job) {
    return error ? <ErrorAlert error={error} onRetry={() => void loadJob()} /> : <Spin style={{ display: "block", margin: "80px auto" }} />;
  }

  const running = job.status === "running" || job.status === "paused";
  const last = executions?.items[0] ?? null;

  return (
    <div data-testid="job-detail">
      <Card style={{ marginBottom: 16 }}>
        <div className="fg-page-title" style={{ marginBottom: 0 }}>
          <Space align="center" wrap>
            <Link to="/jobs" aria-label={t("detail.backToList")}><ArrowLeftOutlined /></Link>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="job-name">{job.job_name}</Typography.Title>
            <span data-testid="job-status" data-status={job.status}><StatusTag status={job.status} /></span>
            <Tag>{job.job_type}</Tag>
            {job.source_type && <Tag color="green">{job.source_type}</Tag>}→{job.target_type && <Tag color="blue">{job.target_type}</Tag>}
            {!job.enabled && <Tag>{t("list.disabled")}</Tag>}
          </Space>
          <Space wrap>
            <JobRowActions job={job} busy={busy} size="middle" labels onAction={(action) => void run(action, job.job_id, job.job_name)} />
            <Button icon={<ReloadOutlined />} aria-label={t("common:actions.refresh")} onClick={() => { void loadJob(); void loadExecutions(); }} />
          </Space>
        </div>
        {job.description && <Typography.Paragraph type="secondary" style={{ margin: "8px 0 0" }}>{job.description}</Typography.Paragraph>}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t("detail.meta", { id: job.job_id, created: formatTime(job.created_at), updated: formatTime(job.updated_at) })}
        </Typography.Text>
      </Card>
      <ErrorAlert error={error} />
      <Card>
        <Tabs activeKey={tab} onChange={setTab} items={[
          { key: "overview", label: <span data-testid="tab-overview">{t("tab.overview")}</span>,
            children: <OverviewTab job={job} live={live} last={last} schedule={schedule} onScheduleSaved={() => void loadJob()} /> },
          { key: "executions", label: <span data-testid="tab-executions">{t("tab.executions")} ({executions?.total ?? 0})</span>,
            children: <ExecutionsTab data={executions} loading={execLoading} page={execPage} pageSize={EXEC_PAGE} onPage={(page) => setExecPage(page)} /> },
          { key: "logs", label: <span data-testid="tab-logs">{t("tab.logs")}</span>,
            children: <LogsTab jobId={job.job_id} live={running} /> },
          { key: "config", label: <span data-testid="tab-config">{t("tab.config")}</span>,
            children: job.config_yaml ? <ConfigTab yaml={job.config_yaml} diagnostics={job.diagnostics} /> : <Empty /> },
        ]} />
      </Card>
    </div>
  );
}
