/** Why there is no "install" button: the server cannot add code while it runs (it answers
 * 501); how to add a plugin instead. */
import { InfoCircleOutlined } from "@ant-design/icons";
import { Button, Modal, Typography } from "antd";
import { useState, type CSSProperties } from "react";
import { useTranslation } from "react-i18next";

const ENTRY_POINT = `# pyproject.toml of your plugin distribution
[project.entry-points."fustgo.plugins"]
my_plugins = "my_package.plugins"`;

export const PRE: CSSProperties = {
  background: "#f6f8fa", border: "1px solid #eaeef2", borderRadius: 6, padding: "8px 12px", margin: "6px 0 10px",
  fontSize: 12, overflowX: "auto", whiteSpace: "pre",
};

export default function InstallHelp() {
  const { t } = useTranslation("plugins");
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button icon={<InfoCircleOutlined />} onClick={() => setOpen(true)} data-testid="plugin-install-help">
        {t("install.button")}
      </Button>
      <Modal open={open} title={t("install.title")} onCancel={() => setOpen(false)} width={640}
        footer={<Button type="primary" onClick={() => setOpen(false)}>{t("common:actions.close")}</Button>}>
        <Typography.Paragraph>{t("install.why")}</Typography.Paragraph>
        <Typography.Paragraph strong>{t("install.steps")}</Typography.Paragraph>
        <ol style={{ paddingLeft: 20 }}>
          <li>{t("install.step1")}<pre style={PRE}>pip install &lt;distribution&gt;</pre></li>
          <li>{t("install.step2")}<pre style={PRE}>{ENTRY_POINT}</pre></li>
          <li>{t("install.step3")}</li>
        </ol>
        <Typography.Paragraph type="secondary">{t("install.switch")}</Typography.Paragraph>
      </Modal>
    </>
  );
}
