/** Records read per second by the whole server over the last hour, per minute. */
import { Button, Card, Empty } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import LineChart from "../../components/charts/LineChart";
import { isFlat } from "../../components/charts/series";
import { formatRate } from "../../lib/format";
import type { Activity } from "./activity";

export default function ThroughputCard({ activity }: { activity: Activity | undefined }) {
  const { t } = useTranslation("dashboard");
  const navigate = useNavigate();
  const flat = !activity || isFlat(activity.throughput);
  return (
    <Card title={t("throughput.title")} size="small" extra={<span style={{ color: "#8c8c8c" }}>{t("throughput.hint")}</span>}
      data-testid="dashboard-throughput">
      <LineChart height={260} loading={!activity}
        series={flat ? [] : [{ name: t("throughput.series"), data: activity.throughput, kind: "area" }]}
        min={activity?.start} max={activity?.end} format={formatRate}
        empty={(
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("throughput.empty")}>
            <Button type="primary" onClick={() => navigate("/jobs")}>{t("goToJobs")}</Button>
          </Empty>
        )} />
    </Card>
  );
}
