/**
 * A plugin's settings form. Stand-in until `forms/SchemaForm.tsx` lands: the block's fields
 * as YAML text, checked as you type (the server's validation still marks the fields).
 */
import { Alert, Input, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import YAML from "yaml";
import type { JsonSchema } from "../../api/plugins";

export interface ConfigFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  errors?: Record<string, string>;
  omit?: string[];
  testId?: string;
}

function strip(value: Record<string, unknown>, omit: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !omit.includes(key)));
}

export default function ConfigForm({ value, onChange, errors = {}, omit = [], testId }: ConfigFormProps) {
  const { t } = useTranslation("designer");
  const shown = strip(value, omit);
  const [text, setText] = useState(() => (Object.keys(shown).length ? YAML.stringify(shown) : ""));
  const [problem, setProblem] = useState<string | null>(null);
  const serialized = JSON.stringify(shown);
  useEffect(() => {
    setText((current) => {
      try {
        if (JSON.stringify(YAML.parse(current) ?? {}) === serialized) return current;
      } catch { /* replaced below */ }
      return Object.keys(shown).length ? YAML.stringify(shown) : "";
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [serialized]);
  return (
    <div data-testid={testId}>
      <Input.TextArea autoSize={{ minRows: 6, maxRows: 24 }} value={text} className="fg-mono"
        onChange={(event) => {
          setText(event.target.value);
          try {
            const parsed: unknown = YAML.parse(event.target.value) ?? {};
            if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(t("panel.mapping"));
            setProblem(null);
            const kept = Object.fromEntries(Object.entries(value).filter(([key]) => omit.includes(key)));
            onChange({ ...(parsed as Record<string, unknown>), ...kept });
          } catch (error) {
            setProblem(error instanceof Error ? error.message : String(error));
          }
        }} />
      {problem && <Alert type="error" showIcon message={problem} style={{ marginTop: 8 }} />}
      {Object.entries(errors).map(([field, message]) => (
        <Typography.Paragraph key={field} type="danger" style={{ margin: "6px 0 0" }}>
          <code>{field}</code>: {message}
        </Typography.Paragraph>
      ))}
    </div>
  );
}
