/** The job at a glance: live progress while it runs, the last run, its schedule, its findings. */
import { Alert, Card, Col, Descriptions, Empty, List, Progress, Row, Statistic, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { Execution, Job, Scheduling } from "../../../api/jobs";
import type { JobSchedule } from "../../../api/schedule";
import ScheduleEditor from "./ScheduleEditor";
import StatusTag from "../../../components/StatusTag";
import { formatBytes, formatDuration, formatNumber, formatRate, formatTime } from "../../../lib/format";
import { durationSeconds } from "./ExecutionsTab";

/** What `job_progress` events carry (server/events.py). */
export interface LiveProgress {
  elapsed_seconds: number;
  records_read: number;
  records_written: number;
  records_filtered: number;
  records_failed: number;
  bytes_read: number;
  records_total?: number | null;
  splits_done?: number;
  splits_total?: number;
  records_per_second?: number;
  fraction_done?: number | null;
  final?: boolean;
}

interface Props {
  job: Job;
  live: LiveProgress | null;
  last: Execution | null;
  schedule: JobSchedule | null;
  /** After the schedule was changed here: reload the job and its schedule. */
  onScheduleSaved: () => void;
}

function Counters({ read, written, filtered, failed }: { read: number; written: number; filtered: number; failed: number }) {
  const { t } = useTranslation("jobs");
  return (
    <Row gutter={16}>
      <Col span={6}><Statistic title={t("counter.read")} value={formatNumber(read)} valueRender={(node) => <span data-testid="job-counter-read">{node}</span>} /></Col>
      <Col span={6}><Statistic title={t("counter.written")} value={formatNumber(written)} valueRender={(node) => <span data-testid="job-counter-written">{node}</span>} /></Col>
      <Col span={6}><Statistic title={t("counter.filtered")} value={formatNumber(filtered)} valueRender={(node) => <span data-testid="job-counter-filtered">{node}</span>} /></Col>
      <Col span={6}><Statistic title={t("counter.failed")} value={formatNumber(failed)} valueStyle={failed ? { color: "#cf1322" } : undefined}
        valueRender={(node) => <span data-testid="job-counter-failed">{node}</span>} /></Col>
    </Row>
  );
}

export default function OverviewTab({ job, live, last, schedule, onScheduleSaved }: Props) {
  const { t } = useTranslation("jobs");
  const running = job.status === "running" || job.status === "paused";
  const showLive = running && live && !live.final;
  const errors = job.diagnostics.filter((item) => item.severity === "error");

  return (
    <Row gutter={[16, 16]}>
      {job.diagnostics.length > 0 && (
        <Col span={24}>
          <Alert type={errors.length ? "error" : "warning"} showIcon data-testid="job-diagnostics"
            message={errors.length ? t("overview.draftErrors", { count: errors.length }) : t("overview.warnings", { count: job.diagnostics.length })}
            description={<List size="small" dataSource={job.diagnostics} renderItem={(item) => (
              <List.Item style={{ padding: "4px 0" }}>
                <div><Tag color={item.severity === "error" ? "red" : "orange"}>{item.path || "/"}{item.line ? `:${item.line}` : ""}</Tag>
                  {item.message}{item.hint && <Typography.Text type="secondary"> — {item.hint}</Typography.Text>}</div>
              </List.Item>)} />} />
        </Col>
      )}
      <Col xs={24} xl={14}>
        <Card size="small" title={showLive ? t("overview.liveRun") : t("overview.lastRun")} data-testid="job-run-card">
          {showLive && live ? (
            <>
              {live.fraction_done !== null && live.fraction_done !== undefined
                ? <Progress percent={Math.round(live.fraction_done * 1000) / 10} status="active" data-testid="job-progress" />
                : <Progress percent={100} showInfo={false} status="active" strokeColor="#91caff" />}
              <Counters read={live.records_read} written={live.records_written} filtered={live.records_filtered} failed={live.records_failed} />
              <Descriptions size="small" column={3} style={{ marginTop: 16 }}>
                <Descriptions.Item label={t("overview.rate")}>{formatRate(live.records_per_second)}</Descriptions.Item>
                <Descriptions.Item label={t("overview.elapsed")}>{formatDuration(live.elapsed_seconds)}</Descriptions.Item>
                <Descriptions.Item label={t("exec.splits")}>{formatNumber(live.splits_done)} / {formatNumber(live.splits_total)}</Descriptions.Item>
              </Descriptions>
            </>
          ) : last ? (
            <>
              <Counters read={last.records_read} written={last.records_written} filtered={last.records_filtered} failed={last.records_failed} />
              <Descriptions size="small" column={2} style={{ marginTop: 16 }}>
                <Descriptions.Item label={t("col.status")}><span data-testid="last-execution-status"><StatusTag status={last.status} /></span></Descriptions.Item>
                <Descriptions.Item label={t("exec.trigger")}>{last.trigger}</Descriptions.Item>
                <Descriptions.Item label={t("exec.start")}>{formatTime(last.start_time)}</Descriptions.Item>
                <Descriptions.Item label={t("exec.duration")}>{formatDuration(durationSeconds(last))}</Descriptions.Item>
                <Descriptions.Item label={t("exec.bytes")}>{formatBytes(last.bytes_transferred)}</Descriptions.Item>
                <Descriptions.Item label={t("overview.rate")}>{formatRate((last.summary?.records_per_second as number | undefined) ?? null)}</Descriptions.Item>
              </Descriptions>
              {last.error_message && <Alert type="error" showIcon message={last.error_message} style={{ marginTop: 8 }} />}
            </>
          ) : (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("overview.neverRun")} />
          )}
        </Card>
      </Col>
      <Col xs={24} xl={10}>
        <Card size="small" title={t("overview.schedule")} data-testid="job-schedule-card"
          extra={<ScheduleEditor jobId={job.job_id} scheduling={schedule?.scheduling ?? (job.scheduling as Scheduling | null)} onSaved={onScheduleSaved} />}>
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t("schedule.kind")}>
              {schedule?.scheduling.cron ? <Tag color="purple" style={{ fontFamily: "monospace" }}>{schedule.scheduling.cron}</Tag>
                : schedule?.scheduling.run_at ? <Tag color="geekblue">{t("schedule.once")}: {formatTime(schedule.scheduling.run_at)}</Tag>
                : t("schedule.manual")}
            </Descriptions.Item>
            <Descriptions.Item label={t("schedule.timezone")}>{schedule?.scheduling.timezone ?? "UTC"}</Descriptions.Item>
            <Descriptions.Item label={t("col.priority")}>{job.priority}</Descriptions.Item>
            {schedule && schedule.depends_on.length > 0 && (
              <Descriptions.Item label={t("schedule.dependsOn")}>{schedule.depends_on.map((ref) => <Tag key={ref.job_id}>{ref.job_name ?? ref.job_id}</Tag>)}</Descriptions.Item>
            )}
            <Descriptions.Item label={t("schedule.nextRuns")}>
              {(schedule?.next_runs ?? job.next_runs).length
                ? <div>{(schedule?.next_runs ?? job.next_runs).map((time) => <div key={time}>{formatTime(time)}</div>)}</div>
                : t("schedule.noNextRuns")}
            </Descriptions.Item>
            {schedule && (
              <Descriptions.Item label={t("schedule.trigger")}>
                <Typography.Text copyable={{ text: schedule.trigger_url }} ellipsis style={{ maxWidth: 260 }}>{schedule.trigger_url}</Typography.Text>
              </Descriptions.Item>
            )}
          </Descriptions>
        </Card>
      </Col>
    </Row>
  );
}
