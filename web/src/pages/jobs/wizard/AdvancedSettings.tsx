/** Every setting of the plugin: the shared schema form when it exists, else the block as YAML. */
import { Alert, Input, Spin } from "antd";
import { lazy, Suspense, useEffect, useState, type ComponentType } from "react";
import { useTranslation } from "react-i18next";
import { parse, stringify } from "yaml";
import { pluginSchema, type JsonSchema, type PluginKind } from "../../../api/plugins";

interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  errors?: Record<string, string>;
  omit?: string[];
  grouped?: boolean;
}

// Another helper writes the form; a glob import lets the wizard build with or without it.
const forms = import.meta.glob<{ default: ComponentType<SchemaFormProps> }>("../../../forms/SchemaForm.tsx");
const loadForm = Object.values(forms)[0];
const SchemaForm = loadForm ? lazy(loadForm) : null;

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
    // eslint-disable-next-line react-hooks/exhaustive-deps
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
    if (!SchemaForm) return;
    let live = true;
    pluginSchema(kind, plugin).then((found) => live && setSchema(found)).catch(() => live && setSchema(null));
    return () => { live = false; };
  }, [kind, plugin]);
  if (SchemaForm && schema) {
    return (
      <Suspense fallback={<Spin />}>
        <div data-testid={testId}><SchemaForm schema={schema} value={value} onChange={onChange} omit={["type"]} grouped /></div>
      </Suspense>
    );
  }
  return <YamlBlock value={value} onChange={onChange} testId={testId} />;
}
