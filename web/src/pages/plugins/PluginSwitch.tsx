/** A plugin's on/off switch, and who decided it (nobody, the main config, the API). */
import { App, Space, Switch, Tooltip, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { errorText } from "../../components/ErrorAlert";
import { setPluginEnabled, type PluginSummary } from "../../api/plugins";

interface Props {
  plugin: PluginSummary;
  onSwitched: (summary: PluginSummary) => void;
}

export default function PluginSwitch({ plugin, onSwitched }: Props) {
  const { t } = useTranslation("plugins");
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);

  const toggle = async (enabled: boolean) => {
    setBusy(true);
    try {
      const summary = await setPluginEnabled(plugin.kind, plugin.name, enabled);
      onSwitched(summary);
      void message.success(t(enabled ? "switch.enabled" : "switch.disabled", { name: plugin.name }));
    } catch (error) {
      void message.error(errorText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space size={6} onClick={(event) => event.stopPropagation()}>
      <Switch size="small" checked={plugin.enabled} loading={busy} onChange={(value) => void toggle(value)}
        aria-label={t("columns.enabled")} data-testid={`plugin-switch-${plugin.kind}-${plugin.name}`} />
      <Tooltip title={t(`switchedBy.${plugin.switched_by}Help`)}>
        <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: "nowrap" }}
          data-testid={`plugin-switched-by-${plugin.kind}-${plugin.name}`}>
          {t(`switchedBy.${plugin.switched_by}`)}
        </Typography.Text>
      </Tooltip>
    </Space>
  );
}
