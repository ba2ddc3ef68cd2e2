/**
 * The dashboard (design §6.2): figures, the last hour's throughput, running jobs with live
 * progress, recent runs and failures, system resources and workers, recent alerts.
 * Everything reloads every REFRESH_MS; live events move progress and reload on status changes.
 */
import { ReloadOutlined } from "@ant-design/icons";
import { Button, Col, Row, Space } from "antd";
import { useMemo, useRef } from "react";
import { useTranslation } from "react-i18next";
import { getSystemMetrics, getWorkers } from "../../api/metrics";
import ErrorAlert from "../../components/ErrorAlert";
import { useLiveProgress } from "../monitoring/liveProgress";
import { usePolling } from "../monitoring/usePolling";
import { loadActivity } from "./activity";
import RecentAlertsCard from "./RecentAlertsCard";
import RecentRunsCard from "./RecentRunsCard";
import RunningJobsCard from "./RunningJobsCard";
import StatCards from "./StatCards";
import SystemCard from "./SystemCard";
import ThroughputCard from "./ThroughputCard";

const REFRESH_MS = 10_000;
const RELOAD_AFTER_STATUS_MS = 500;

export default function DashboardPage() {
  const { t } = useTranslation("dashboard");
  const activity = usePolling(loadActivity, REFRESH_MS);
  const system = usePolling(getSystemMetrics, REFRESH_MS);
  const workers = usePolling(getWorkers, REFRESH_MS);
  const pending = useRef<number>();
  const { progress, currentThroughput } = useLiveProgress(() => {
    // A burst of status events (start, end) reloads once.
    window.clearTimeout(pending.current);
    pending.current = window.setTimeout(() => { activity.reload(); workers.reload(); }, RELOAD_AFTER_STATUS_MS);
  });
  const running = useMemo(
    () => (activity.data?.jobs ?? []).filter((job) => job.status === "running" || job.status === "paused"),
    [activity.data],
  );
  const refreshAll = () => { activity.reload(); system.reload(); workers.reload(); };

  return (
    <div data-testid="dashboard-page">
      <div className="fg-page-title">
        <h1>{t("common:nav.dashboard")}</h1>
        <Space>
          <span style={{ color: "#8c8c8c" }}>{t("autoRefresh", { seconds: REFRESH_MS / 1000 })}</span>
          <Button icon={<ReloadOutlined />} onClick={refreshAll}>{t("common:actions.refresh")}</Button>
        </Space>
      </div>
      {activity.error ? <ErrorAlert error={activity.error} onRetry={activity.reload} /> : null}
      <Space direction="vertical" size={16} style={{ width: "100%" }}>
        <StatCards activity={activity.data} running={running.length} throughput={currentThroughput()} />
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={16}><ThroughputCard activity={activity.data} /></Col>
          <Col xs={24} xl={8}><RunningJobsCard jobs={running} progress={progress} loading={activity.loading && !activity.data} /></Col>
        </Row>
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={16}><RecentRunsCard runs={activity.data?.runs ?? []} loading={activity.loading && !activity.data} /></Col>
          <Col xs={24} xl={8}><SystemCard system={system} workers={workers} /></Col>
        </Row>
        <RecentAlertsCard refreshMs={REFRESH_MS} />
      </Space>
    </div>
  );
}
