/** /preview: data preview and schema compare (design doc §6.5). `?connection=<id>&table=<t>`
 * opens with a saved connection and table chosen. */
import { TableOutlined } from "@ant-design/icons";
import { Tabs, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { listConnections, type Connection } from "../../api/connections";
import ErrorAlert from "../../components/ErrorAlert";
import DataPreviewTab from "./DataPreviewTab";
import { emptyEndpoint } from "./EndpointPicker";
import SchemaCompareTab from "./SchemaCompareTab";

export default function PreviewPage() {
  const { t } = useTranslation("preview");
  const [params, setParams] = useSearchParams();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const initialConnection = params.get("connection") ?? undefined;
  const [endpoint, setEndpoint] = useState(() => emptyEndpoint(initialConnection, params.get("table") ?? ""));
  const [source, setSource] = useState(() => emptyEndpoint(initialConnection, params.get("table") ?? ""));
  const [target, setTarget] = useState(() => emptyEndpoint(initialConnection));
  const tab = params.get("tab") === "compare" ? "compare" : "data";

  const load = () => {
    setError(null);
    listConnections().then((page) => setConnections(page.items)).catch((reason: unknown) => {
      setConnections([]);
      setError(reason);
    });
  };
  useEffect(load, []);

  const chooseTab = (key: string) => {
    const next = new URLSearchParams(params);
    if (key === "compare") next.set("tab", "compare");
    else next.delete("tab");
    setParams(next, { replace: true });
  };

  return (
    <div data-testid="preview-page">
      <div className="fg-page-title"><h1><TableOutlined /> {t("title")}</h1></div>
      <Typography.Paragraph type="secondary">{t("intro")}</Typography.Paragraph>
      <ErrorAlert error={error} onRetry={load} />
      <Tabs activeKey={tab} onChange={chooseTab} destroyOnHidden={false} items={[
        {
          key: "data", label: <span data-testid="tab-data">{t("tabs.data")}</span>,
          children: <DataPreviewTab connections={connections} endpoint={endpoint} onEndpoint={setEndpoint} />,
        },
        {
          key: "compare", label: <span data-testid="tab-compare">{t("tabs.compare")}</span>,
          children: <SchemaCompareTab connections={connections} source={source} target={target} onSource={setSource} onTarget={setTarget} />,
        },
      ]} />
    </div>
  );
}
