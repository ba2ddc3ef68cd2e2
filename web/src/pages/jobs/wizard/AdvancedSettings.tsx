/** Every setting of the plugin: the form from its schema, or the block as YAML when the
 * schema cannot be loaded. */
import { Alert, Input } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { parse, stringify } from "yaml";
import { pluginSchema, type JsonSchema, type PluginKind } from "../../../api/plugins";
import SchemaForm from "../../../forms/SchemaForm";

interface Props {
  kind: PluginKind;
  plugin: string;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  testId: string;
}

function YamlBlock({ value, onChange, testId }: Omit<Props, "kind" | "plugin">) {
  const { t } = useTranslation("jobs");
  const [text, setText] = useState(() => stringify(value, { lineWidth: 0 }));
  const [problem, setProblem] = useState<string | null>(null);
  // The quick fields above change the same object: show their changes here too.
  useEffect(() => {
    try {
      if (JSON.stringify(parse(text) ?? {}) !== JSON.stringify(value)) setText(Object.keys(value).length ? stringify(value, { lineWidth: 0 }) : "");
    } catch {
      /* the user is mid-edit: keep their text */
    }
    // Only a change of value from outside rewrites the text, not each keystroke here.
  }, [value]);
  return (
    <>
      <Input.TextArea data-testid={testId} value={text} autoSize={{ minRows: 4, maxRows: 16 }}
        style={{ fontFamily: "ui-monospace, Menlo, Consolas, monospace", fontSize: 12 }}
        placeholder={t("wizard.yamlPlaceholder")}
        onChange={(event) => {
          setText(event.target.value);
          try {
            const parsed: unknown = parse(event.target.value) ?? {};
            if (typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(t("wizard.yamlMapping"));
            setProblem(null);
            onChange(parsed as Record<string, unknown>);
          } catch (error) {
            setProblem((error as Error).message);
          }
        }} />
      {problem && <Alert type="error" showIcon message={problem} style={{ marginTop: 8 }} />}
    </>
  );
}

export default function AdvancedSettings({ kind, plugin, value, onChange, testId }: Props) {
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  useEffect(() => {
    let live = true;
    pluginSchema(kind, plugin).then((found) => live && setSchema(found)).catch(() => live && setSchema(null));
    return () => { live = false; };
  }, [kind, plugin]);
  if (schema) {
    return (
      <div data-testid={testId}>
        <SchemaForm schema={schema} value={value} onChange={onChange} omit={["type"]} kind={kind} grouped />
      </div>
    );
  }
  return <YamlBlock value={value} onChange={onChange} testId={testId} />;
}
