/** A connection test's answer: who answered (product, version, latency), or why nobody did. */
import { Alert, Space, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { ConnectionTest } from "../../api/connections";
import { formatNumber } from "../../lib/format";

export function ms(value: number | undefined): string {
  if (value === undefined) return "–";
  return `${formatNumber(value, value < 10 ? 1 : 0)} ms`;
}

export default function TestResult({ result }: { result: ConnectionTest }) {
  const { t } = useTranslation("connections");
  if (!result.ok || !result.server) {
    return (
      <Alert type="error" showIcon data-testid="connection-test-result" data-ok="false"
        message={t("test.failed")} description={result.error ?? t("test.noReason")} />
    );
  }
  const server = result.server;
  return (
    <Alert type="success" showIcon data-testid="connection-test-result" data-ok="true"
      message={<span data-testid="connection-test-product">{t("test.ok", { product: server.product ?? "?", version: server.version ?? "" })}</span>}
      description={
        <Space size={[16, 4]} wrap>
          {server.address && <Typography.Text type="secondary">{t("test.address")}: <Typography.Text code>{server.address}</Typography.Text></Typography.Text>}
          {server.user && <Typography.Text type="secondary">{t("test.user")}: {server.user}</Typography.Text>}
          <Typography.Text type="secondary">{t("test.connect")}: {ms(server.connect_ms)}</Typography.Text>
          <Typography.Text type="secondary">{t("test.latency")}: {ms(server.latency_ms)}</Typography.Text>
          {server.read_only && <Tag color="orange">{t("test.readOnly")}</Tag>}
        </Space>
      } />
  );
}
