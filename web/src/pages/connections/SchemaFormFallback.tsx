/**
 * A minimal stand-in for forms/SchemaForm (written by another helper) with the same props:
 * `<SchemaForm schema value onChange errors omit grouped/>`. Flat objects only: strings,
 * numbers, booleans, enums and their nullable forms; advanced fields folded away.
 * Swap the import in schemaForm.ts once the real one lands.
 */
import { Collapse, Form, Input, InputNumber, Select, Switch } from "antd";
import { useTranslation } from "react-i18next";
import type { JsonSchema } from "../../api/plugins";

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Messages by field path (`port`, `options.x`). */
  errors?: Record<string, string>;
  /** Properties not to show. */
  omit?: string[];
  grouped?: boolean;
}

/** The non-null member of a nullable anyOf, or the schema itself. */
function core(schema: JsonSchema): JsonSchema {
  const options = (schema.anyOf ?? []).filter((item) => item.type !== "null");
  return options.length === 1 ? { ...options[0], description: schema.description, title: schema.title } : schema;
}

function Field({ name, schema, value, onChange, required }: {
  name: string; schema: JsonSchema; value: unknown; onChange: (value: unknown) => void; required: boolean;
}) {
  const field = core(schema);
  const placeholder = schema.default !== undefined && schema.default !== null ? String(schema.default)
    : (schema["x-placeholder"] ?? undefined);
  const secret = field.format === "password" || field.writeOnly === true;
  if (field.enum) {
    return <Select allowClear={!required} value={value ?? undefined} placeholder={placeholder}
      onChange={(next) => onChange(next ?? undefined)} options={field.enum.map((item) => ({ value: String(item), label: String(item) }))} />;
  }
  if (field.type === "boolean") {
    return <Switch checked={Boolean(value ?? schema.default)} onChange={onChange} />;
  }
  if (field.type === "integer" || field.type === "number") {
    return <InputNumber style={{ width: "100%" }} value={typeof value === "number" ? value : null} placeholder={placeholder}
      min={field.minimum} max={field.maximum} onChange={(next) => onChange(next ?? undefined)} data-testid={`field-${name}`} />;
  }
  if (secret) {
    return <Input.Password value={typeof value === "string" ? value : ""} autoComplete="new-password"
      onChange={(event) => onChange(event.target.value || undefined)} data-testid={`field-${name}`} />;
  }
  return <Input value={value === undefined || value === null ? "" : String(value)} placeholder={placeholder}
    onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)} data-testid={`field-${name}`} />;
}

export default function SchemaFormFallback({ schema, value, onChange, errors = {}, omit = [] }: SchemaFormProps) {
  const { t } = useTranslation("connections");
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {}).filter(([name, field]) => {
    const kind = core(field).type;
    // Maps and nested objects need the full form; leave them out of the stand-in.
    return !omit.includes(name) && kind !== "object" && kind !== "array";
  });
  const render = (list: [string, JsonSchema][]) => list.map(([name, field]) => (
    <Form.Item key={name} label={field.title ?? name} required={required.has(name)} tooltip={field.description}
      validateStatus={errors[name] ? "error" : undefined} help={errors[name]} style={{ marginBottom: 12 }}>
      <Field name={name} schema={field} value={value[name]} required={required.has(name)}
        onChange={(next) => {
          const updated = { ...value };
          if (next === undefined) delete updated[name];
          else updated[name] = next;
          onChange(updated);
        }} />
    </Form.Item>
  ));
  const basic = entries.filter(([, field]) => field["x-advanced"] !== true);
  const advanced = entries.filter(([, field]) => field["x-advanced"] === true);
  return (
    <Form layout="vertical" component={false}>
      {render(basic)}
      {advanced.length > 0 && (
        <Collapse ghost size="small" items={[{ key: "advanced", label: t("form.advanced"), children: render(advanced) }]} />
      )}
    </Form>
  );
}
