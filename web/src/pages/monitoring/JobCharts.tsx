/** One job's metrics over a time range: totals, and four charts (throughput, errors, latency, bytes). */
import { Button, Card, Col, Empty, Row, Statistic } from "antd";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { JobMetrics } from "../../api/metrics";
import LineChart, { type ChartSeries } from "../../components/charts/LineChart";
import { bytesPerSecond, seriesOf } from "../../components/charts/series";
import { formatBytes, formatNumber, formatRate } from "../../lib/format";

interface Props {
  metrics: JobMetrics | undefined;
  loading: boolean;
  window: { start: number; end: number };
  onStart?: () => void;
  starting?: boolean;
}

const percent = (value: number) => `${formatNumber(value, 2)}%`;
const ms = (value: number) => `${formatNumber(value, value < 10 ? 1 : 0)} ms`;
const bytesRate = (value: number) => `${formatBytes(value)}/s`;

export default function JobCharts({ metrics, loading, window, onStart, starting }: Props) {
  const { t } = useTranslation("monitoring");
  const points = useMemo(() => metrics?.points ?? [], [metrics]);
  const series = useMemo(() => ({
    read: seriesOf(points, (p) => p.records_per_second),
    written: seriesOf(points, (p) => p.written_per_second),
    errors: seriesOf(points, (p) => p.error_rate_percent),
    latency: seriesOf(points, (p) => p.batch_latency_ms),
    bytes: seriesOf(points, bytesPerSecond),
  }), [points]);
  const empty = (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("charts.empty")}>
      {onStart && <Button type="primary" loading={starting} onClick={onStart} data-testid="monitoring-start-job">{t("charts.startJob")}</Button>}
    </Empty>
  );
  const totals = metrics?.totals;
  const axis = { min: window.start, max: window.end };
  const charts: { title: string; testId: string; format: (value: number) => string; series: ChartSeries[] }[] = [
    { title: t("charts.throughput"), testId: "chart-throughput", format: formatRate,
      series: [{ name: t("charts.read"), data: series.read }, { name: t("charts.written"), data: series.written, color: "#52c41a" }] },
    { title: t("charts.errorRate"), testId: "chart-error-rate", format: percent,
      series: [{ name: t("charts.errorRate"), data: series.errors, kind: "area", color: "#ff4d4f" }] },
    { title: t("charts.latency"), testId: "chart-latency", format: ms,
      series: [{ name: t("charts.latency"), data: series.latency, kind: "bar", color: "#722ed1" }] },
    { title: t("charts.bytes"), testId: "chart-bytes", format: bytesRate,
      series: [{ name: t("charts.bytes"), data: series.bytes, color: "#13c2c2" }] },
  ];
  return (
    <>
      <Card size="small" style={{ marginBottom: 16 }} data-testid="monitoring-totals" loading={loading && !metrics}>
        <Row gutter={16}>
          <Col span={4}><Statistic title={t("totals.executions")} value={formatNumber(totals?.executions)} /></Col>
          <Col span={4}><Statistic title={t("totals.read")} value={formatNumber(totals?.records_read)} /></Col>
          <Col span={4}><Statistic title={t("totals.written")} value={formatNumber(totals?.records_written)} /></Col>
          <Col span={4}><Statistic title={t("totals.failed")} value={formatNumber(totals?.records_failed)} /></Col>
          <Col span={4}><Statistic title={t("totals.rate")} value={formatRate(totals?.records_per_second)} /></Col>
          <Col span={4}><Statistic title={t("totals.latency")} value={totals?.batch_latency_ms == null ? "–" : ms(totals.batch_latency_ms)} /></Col>
        </Row>
      </Card>
      <Row gutter={[16, 16]}>
        {charts.map((chart) => (
          <Col key={chart.testId} xs={24} xl={12}>
            <Card size="small" title={chart.title}>
              <LineChart testId={chart.testId} loading={loading && !metrics} empty={empty} format={chart.format} {...axis} series={chart.series} />
            </Card>
          </Col>
        ))}
      </Row>
    </>
  );
}
