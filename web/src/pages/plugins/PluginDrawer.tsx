/** One plugin in full: what it does, its switch, its examples as YAML and its config fields. */
import { Alert, Descriptions, Drawer, Empty, Skeleton, Space, Tabs, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { stringify } from "yaml";
import { pluginSchema, type JsonSchema, type PluginKind, type PluginSummary } from "../../api/plugins";
import ErrorAlert from "../../components/ErrorAlert";
import { PRE } from "./InstallHelp";
import { getPluginDetails, type PluginDetails } from "./pluginDetails";
import PluginSwitch from "./PluginSwitch";
import SchemaFieldTable from "./SchemaFieldTable";

interface Props {
  plugin: { kind: PluginKind; name: string } | null;
  onClose: () => void;
  onSwitched: (summary: PluginSummary) => void;
}

export default function PluginDrawer({ plugin, onClose, onSwitched }: Props) {
  const { t } = useTranslation("plugins");
  const [details, setDetails] = useState<PluginDetails | null>(null);
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!plugin) return;
    let live = true;
    setDetails(null);
    setSchema(null);
    setError(null);
    Promise.all([getPluginDetails(plugin.kind, plugin.name), pluginSchema(plugin.kind, plugin.name)])
      .then(([found, config]) => {
        if (!live) return;
        setDetails(found);
        setSchema(config);
      })
      .catch((reason: unknown) => live && setError(reason));
    return () => { live = false; };
  }, [plugin, attempt]);

  const switched = (summary: PluginSummary) => {
    setDetails((current) => (current ? { ...current, ...summary } : current));
    onSwitched(summary);
  };

  return (
    <Drawer open={plugin !== null} onClose={onClose} width={960} destroyOnHidden data-testid="plugin-drawer"
      title={details ? <Space>{details.title}<Typography.Text type="secondary" code>{details.name}</Typography.Text></Space> : plugin?.name}>
      <ErrorAlert error={error} onRetry={() => setAttempt((n) => n + 1)} />
      {!details && !error && <Skeleton active paragraph={{ rows: 8 }} />}
      {details && (
        <>
          <Typography.Paragraph style={{ fontSize: 15 }} data-testid="plugin-description">{details.description}</Typography.Paragraph>
          <Descriptions size="small" column={3} bordered style={{ marginBottom: 16 }} items={[
            { key: "kind", label: t("columns.kind"), children: t(`kinds.${details.kind}`) },
            { key: "family", label: t("columns.family"), children: t(`families.${details.family}`, { defaultValue: details.family }) },
            { key: "source", label: t("columns.source"), children: details.source === "builtin" ? t("source.builtin") : details.source },
            { key: "capabilities", label: t("columns.capabilities"), span: 2, children: details.capabilities.length
              ? details.capabilities.map((item) => <Tag key={item}>{t(`capabilities.${item}`, { defaultValue: item })}</Tag>)
              : <Typography.Text type="secondary">{t("capabilities.none")}</Typography.Text> },
            { key: "enabled", label: t("columns.enabled"), children: <PluginSwitch plugin={details} onSwitched={switched} /> },
          ]} />
          {!details.enabled && <Alert type="warning" showIcon style={{ marginBottom: 16 }} message={t("disabledNotice")} />}
          <Tabs items={[
            {
              key: "schema", label: t("drawer.schema"),
              children: schema ? <SchemaFieldTable schema={schema} /> : <Skeleton active />,
            },
            {
              key: "examples", label: t("drawer.examples", { count: details.examples.length }),
              children: details.examples.length ? (
                <div data-testid="plugin-examples">
                  {details.examples.map((example, index) => (
                    <pre key={index} style={PRE}>{stringify(example)}</pre>
                  ))}
                </div>
              ) : <Empty description={t("drawer.noExamples")} />,
            },
          ]} />
        </>
      )}
    </Drawer>
  );
}
