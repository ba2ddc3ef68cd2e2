/** The generated YAML, its validation, the job's name: then the job is created. */
import { CheckCircleOutlined } from "@ant-design/icons";
import { Alert, Button, Form, Input, List, Space, Tag } from "antd";
import { useTranslation } from "react-i18next";
import type { ValidationResult } from "../../../api/jobs";
import { YamlView } from "../detail/ConfigTab";

interface Props {
  name: string;
  description: string;
  yaml: string;
  validation: ValidationResult | null;
  validating: boolean;
  onName: (name: string) => void;
  onDescription: (description: string) => void;
  onValidate: () => void;
}

export default function ReviewStep({ name, description, yaml, validation, validating, onName, onDescription, onValidate }: Props) {
  const { t } = useTranslation("jobs");
  return (
    <div style={{ maxWidth: 900 }}>
      <Form layout="vertical">
        <Form.Item label={t("wizard.name")} required>
          <Input data-testid="wizard-name" value={name} placeholder="orders-to-warehouse" onChange={(event) => onName(event.target.value)} />
        </Form.Item>
        <Form.Item label={t("wizard.description")}>
          <Input data-testid="wizard-description" value={description} onChange={(event) => onDescription(event.target.value)} />
        </Form.Item>
      </Form>
      <YamlView value={yaml} diagnostics={validation?.diagnostics} />
      <Space style={{ margin: "12px 0" }}>
        <Button icon={<CheckCircleOutlined />} loading={validating} onClick={onValidate} data-testid="wizard-validate">{t("wizard.validate")}</Button>
      </Space>
      {validation && (
        <Alert data-testid="wizard-validation" data-ok={validation.ok ? "true" : "false"} showIcon
          type={validation.ok ? (validation.diagnostics.length ? "warning" : "success") : "error"}
          message={validation.ok ? t("wizard.valid") : t("wizard.invalid")}
          description={validation.diagnostics.length ? (
            <List size="small" dataSource={validation.diagnostics} renderItem={(item) => (
              <List.Item style={{ padding: "2px 0" }}>
                <span><Tag color={item.severity === "error" ? "red" : "orange"}>{item.path || "/"}</Tag>{item.message}{item.hint ? ` — ${item.hint}` : ""}</span>
              </List.Item>)} />
          ) : undefined} />
      )}
    </div>
  );
}
