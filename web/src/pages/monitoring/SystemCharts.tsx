/**
 * CPU, memory and disk of the server over the time this page is open: the server keeps no
 * history of them, so the page samples /metrics/system every SAMPLE_MS and keeps KEEP points.
 */
import { Card, Col, Row } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { getSystemMetrics, type SystemMetrics } from "../../api/metrics";
import ErrorAlert from "../../components/ErrorAlert";
import LineChart from "../../components/charts/LineChart";
import type { Pair } from "../../components/charts/series";
import { formatNumber } from "../../lib/format";
import { usePolling } from "./usePolling";

const SAMPLE_MS = 5000;
const KEEP = 360;
const MIN_SPAN_MS = 5 * 60_000;
const percent = (value: number) => `${formatNumber(value, 0)}%`;
const megabytes = (value: number) => `${formatNumber(value, 0)} MB`;

interface History {
  cpu: Pair[];
  memory: Pair[];
  disk: Pair[];
  rss: Pair[];
}

function append(history: History, sample: SystemMetrics, at: number): History {
  const add = (pairs: Pair[], value: number | null): Pair[] => [...pairs.slice(-KEEP + 1), [at, value]];
  return {
    cpu: add(history.cpu, sample.cpu.percent),
    memory: add(history.memory, sample.memory.percent),
    disk: add(history.disk, sample.disk.free_percent === null ? null : 100 - sample.disk.free_percent),
    rss: add(history.rss, sample.process.rss_mb),
  };
}

export default function SystemCharts() {
  const { t } = useTranslation("monitoring");
  const system = usePolling(getSystemMetrics, SAMPLE_MS);
  const [history, setHistory] = useState<History>({ cpu: [], memory: [], disk: [], rss: [] });
  useEffect(() => {
    if (system.data) setHistory((current) => append(current, system.data as SystemMetrics, Date.now()));
  }, [system.data]);

  // At least the last few minutes on the axis, so one sample does not stretch it over days.
  const last = history.cpu.length ? history.cpu[history.cpu.length - 1][0] : Date.now();
  const axis = { min: Math.min(history.cpu[0]?.[0] ?? last, last - MIN_SPAN_MS), max: last };
  return (
    <Card size="small" title={t("system.title")} data-testid="monitoring-system"
      extra={<span style={{ color: "#8c8c8c" }}>{t("system.hint", { seconds: SAMPLE_MS / 1000 })}</span>}>
      {system.error ? <ErrorAlert error={system.error} onRetry={system.reload} /> : null}
      <Row gutter={16}>
        <Col xs={24} xl={12}>
          <LineChart testId="chart-system" height={220} loading={system.loading} format={percent} {...axis}
            series={[
              { name: t("system.cpu"), data: history.cpu },
              { name: t("system.memory"), data: history.memory, color: "#52c41a" },
              { name: t("system.disk"), data: history.disk, color: "#fa8c16" },
            ]} />
        </Col>
        <Col xs={24} xl={12}>
          <LineChart height={220} loading={system.loading} format={megabytes} legend {...axis}
            series={[{ name: t("system.rss"), data: history.rss, kind: "area", color: "#722ed1" }]} />
        </Col>
      </Row>
    </Card>
  );
}
