/**
 * Monitoring (design §6.6): one job's throughput, error rate, batch latency and bytes over
 * a time range; the running jobs with live progress; the workers; the server's resources.
 * The job and range live in the URL (?job=…&range=1h) so a view can be shared.
 */
import { ReloadOutlined } from "@ant-design/icons";
import { App, Button, DatePicker, Empty, Segmented, Select, Space } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router-dom";
import { jobAction, listJobs } from "../../api/jobs";
import { getJobMetrics, getWorkers, type JobMetrics } from "../../api/metrics";
import ErrorAlert from "../../components/ErrorAlert";
import JobCharts from "./JobCharts";
import { useLiveProgress } from "./liveProgress";
import RunningJobsTable from "./RunningJobsTable";
import SystemCharts from "./SystemCharts";
import { PRESETS, windowOf, type RangeKey } from "./timeRange";
import { usePolling } from "./usePolling";
import WorkersTable from "./WorkersTable";

const REFRESH_MS = 5000;

export default function MonitoringPage() {
  const { t } = useTranslation("monitoring");
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const range = (params.get("range") as RangeKey | null) ?? "1h";
  const [custom, setCustom] = useState<[number, number] | null>(null);
  const [starting, setStarting] = useState(false);
  const jobs = usePolling(() => listJobs({ page_size: 500, sort: "-updated_at" }), REFRESH_MS * 2);
  const workers = usePolling(getWorkers, REFRESH_MS * 2);
  const running = useMemo(() => (jobs.data?.items ?? []).filter((job) => job.status === "running" || job.status === "paused"), [jobs.data]);

  // The job shown: the URL's, else a running one, else the latest changed.
  const jobId = params.get("job") ?? running[0]?.job_id ?? jobs.data?.items[0]?.job_id ?? null;
  const selectJob = (value: string) => setParams((current) => { current.set("job", value); return current; }, { replace: true });
  const selectRange = (value: RangeKey) => setParams((current) => { current.set("range", value); return current; }, { replace: true });

  const load = (): Promise<JobMetrics | undefined> => {
    const span = windowOf(range, custom);
    if (!jobId || !span) return Promise.resolve(undefined);
    return getJobMetrics(jobId, { start: new Date(span.start).toISOString(), end: new Date(span.end).toISOString(), step: span.step });
  };
  // A fixed (custom) range does not move: no periodic reload.
  const metrics = usePolling(load, range === "custom" ? 0 : REFRESH_MS, [jobId, range, custom]);
  const span = windowOf(range, custom) ?? { start: Date.now() - 3600_000, end: Date.now() };

  const pending = useRef<number>();
  const { progress } = useLiveProgress((event) => {
    // A burst of status events (start, end) reloads once.
    window.clearTimeout(pending.current);
    pending.current = window.setTimeout(() => {
      jobs.reload();
      workers.reload();
      if (event.job_id === jobId) metrics.reload();
    }, 500);
  });
  useEffect(() => () => window.clearTimeout(pending.current), []);

  const start = async () => {
    if (!jobId) return;
    setStarting(true);
    try {
      await jobAction(jobId, "start");
      message.success(t("started"));
      jobs.reload();
    } catch (error) {
      message.error(error instanceof Error ? error.message : String(error));
    } finally {
      setStarting(false);
    }
  };

  const noJobs = jobs.data && jobs.data.items.length === 0;
  return (
    <div data-testid="monitoring-page">
      <div className="fg-page-title">
        <h1>{t("common:nav.monitoring")}</h1>
        <Space wrap>
          <Select showSearch optionFilterProp="label" style={{ width: 260 }} placeholder={t("pickJob")}
            value={jobId ?? undefined} onChange={selectJob} loading={jobs.loading} data-testid="monitoring-job"
            aria-label={t("pickJob")}
            options={(jobs.data?.items ?? []).map((job) => ({ value: job.job_id, label: job.job_name }))} />
          <Segmented<RangeKey> value={range} onChange={selectRange} data-testid="monitoring-range"
            options={[...PRESETS, "custom" as const].map((key) => ({ value: key, label: t(`range.${key}`) }))} />
          {range === "custom" && (
            <DatePicker.RangePicker showTime allowClear={false}
              value={custom ? [dayjs(custom[0]), dayjs(custom[1])] : null}
              disabledDate={(day: Dayjs) => day.isAfter(dayjs().endOf("day"))}
              onChange={(values) => {
                if (values?.[0] && values[1]) setCustom([values[0].valueOf(), values[1].valueOf()]);
              }} />
          )}
          <Button icon={<ReloadOutlined />} onClick={() => { metrics.reload(); jobs.reload(); workers.reload(); }}>
            {t("common:actions.refresh")}
          </Button>
        </Space>
      </div>
      {jobs.error ? <ErrorAlert error={jobs.error} onRetry={jobs.reload} /> : null}
      {metrics.error ? <ErrorAlert error={metrics.error} onRetry={metrics.reload} /> : null}
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        {noJobs ? (
          <Empty description={t("noJobs")} data-testid="monitoring-no-jobs">
            <Button type="primary" onClick={() => navigate("/jobs/new")}>{t("createJob")}</Button>
          </Empty>
        ) : range === "custom" && !custom ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("pickRange")} />
        ) : (
          <JobCharts metrics={metrics.data} loading={metrics.loading} window={span}
            onStart={jobId ? () => void start() : undefined} starting={starting} />
        )}
        <RunningJobsTable jobs={running} progress={progress} loading={jobs.loading && !jobs.data} />
        <WorkersTable workers={workers} />
        <SystemCharts />
      </Space>
    </div>
  );
}
