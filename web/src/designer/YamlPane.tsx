/**
 * The YAML side of the designer. Stand-in until `designer/yaml/YamlEditor.tsx` (CodeMirror,
 * another helper's) lands: a plain text area with the syntax errors and the server's
 * diagnostics listed under it by line.
 */
import { Input, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { Diagnostic } from "../api/jobs";

interface Props {
  value: string;
  onChange: (text: string) => void;
  diagnostics: Diagnostic[];
}

export default function YamlPane({ value, onChange, diagnostics }: Props) {
  const { t } = useTranslation("designer");
  return (
    <div className="fg-yaml" data-testid="yaml-pane">
      <Input.TextArea className="fg-mono fg-yaml-text" value={value} spellCheck={false} data-testid="yaml-editor"
        placeholder={t("yaml.placeholder")} onChange={(event) => onChange(event.target.value)} />
      {diagnostics.length > 0 && (
        <ul className="fg-yaml-problems">
          {diagnostics.map((item, index) => (
            <li key={index}>
              <Typography.Text type={item.severity === "error" ? "danger" : "warning"}>
                {item.line ? t("yaml.line", { n: item.line }) : ""} {item.message}
              </Typography.Text>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
