/** The dashboard's figures: jobs, today's runs and records, the throughput now. */
import { Card, Col, Row, Statistic } from "antd";
import { useTranslation } from "react-i18next";
import { formatNumber, formatRate } from "../../lib/format";
import { today, type Activity } from "./activity";

interface Props {
  activity: Activity | undefined;
  running: number;
  throughput: number;
}

export default function StatCards({ activity, running, throughput }: Props) {
  const { t } = useTranslation("dashboard");
  const counts = activity ? today(activity.runs) : null;
  const loading = !activity;
  const cards = [
    { key: "jobs-total", title: t("stats.jobsTotal"), value: activity ? formatNumber(activity.total) : "–" },
    { key: "jobs-running", title: t("stats.running"), value: formatNumber(running), color: running ? "#1677ff" : undefined },
    { key: "failed-today", title: t("stats.failedToday"), value: counts ? formatNumber(counts.failed) : "–", color: counts?.failed ? "#cf1322" : undefined },
    { key: "succeeded-today", title: t("stats.succeededToday"), value: counts ? formatNumber(counts.succeeded) : "–", color: counts?.succeeded ? "#389e0d" : undefined },
    { key: "records-today", title: t("stats.recordsToday"), value: counts ? formatNumber(counts.records) : "–" },
    { key: "throughput-now", title: t("stats.throughputNow"), value: formatRate(throughput) },
  ];
  return (
    <Row gutter={[16, 16]}>
      {cards.map((card) => (
        <Col key={card.key} xs={12} md={8} xl={4}>
          <Card size="small" loading={loading && card.key !== "throughput-now"} data-testid={`stat-${card.key}`}>
            <Statistic title={card.title} value={card.value} valueStyle={{ color: card.color, fontSize: 24 }} />
          </Card>
        </Col>
      ))}
    </Row>
  );
}
