/** "New job": the wizard, the designer, a batch from a template, or a YAML file to import. */
import { DownOutlined, PlusOutlined } from "@ant-design/icons";
import { App, Dropdown } from "antd";
import { useRef } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { importJobs } from "./yamlFiles";

export default function NewJobButton({ onImported }: { onImported: () => void }) {
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const { message, modal } = App.useApp();
  const input = useRef<HTMLInputElement>(null);

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const outcome = await importJobs(await file.text());
    if (input.current) input.current.value = "";
    onImported();
    if (outcome.failed.length === 0) {
      message.success(t("import.done", { count: outcome.created.length }));
    } else {
      modal.warning({
        title: t("import.partial", { created: outcome.created.length, failed: outcome.failed.length }),
        content: outcome.failed.map((item) => <p key={item.index}>{t("import.document", { index: item.index })}: {item.message}</p>),
      });
    }
  };

  return (
    <>
      <input ref={input} type="file" accept=".yaml,.yml,application/yaml,text/yaml" hidden
        data-testid="job-import-input" onChange={(event) => void onFile(event.target.files?.[0])} />
      <Dropdown.Button type="primary" data-testid="job-new" icon={<DownOutlined />}
        onClick={() => navigate("/jobs/new")}
        menu={{
          items: [
            { key: "wizard", label: t("new.wizard") },
            { key: "designer", label: t("new.designer") },
            { key: "batch", label: t("new.batch") },
            { key: "import", label: t("new.import") },
          ],
          onClick: ({ key }) => {
            if (key === "wizard") navigate("/jobs/new");
            else if (key === "designer") navigate("/designer");
            else if (key === "batch") navigate("/jobs/batch");
            else input.current?.click();
          },
        }}>
        <PlusOutlined /> {t("new.label")}
      </Dropdown.Button>
    </>
  );
}
