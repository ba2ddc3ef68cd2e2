/**
 * The generated form's fields: one field of a schema (`FieldEditor`, picking its widget
 * from schema.ts) and an object's fields (`ObjectFields`, advanced ones folded away). They
 * recurse for nested objects, lists of objects and union variants.
 */
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Card, Collapse, Form, Input, InputNumber, Select, Switch } from "antd";
import { createContext, useContext, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { JsonSchema } from "../api/plugins";
import KeyValueEditor from "./KeyValueEditor";
import RawEditor from "./RawEditor";
import {
  childPath,
  hasErrorsUnder,
  isRecord,
  labelOf,
  parseQuantity,
  parseScalar,
  pickAlternative,
  placeholderOf,
  unwrap,
  variantOf,
  variantsOf,
  widgetOf,
  withKey,
} from "./schema";

export interface FormContextValue {
  root: JsonSchema;
  errors?: Record<string, string>;
  disabled?: boolean;
}
export const FormContext = createContext<FormContextValue>({ root: {} });

const MONO = { fontFamily: "var(--ant-font-family-code, ui-monospace, SFMono-Regular, Menlo, monospace)" };

const testIdOf = (path: string) => `field-${path}`;

/** Help text: the schema's description (English), as the label's tooltip. */
const tooltipOf = (schema: JsonSchema) => (schema.description ? { title: <span style={{ whiteSpace: "pre-line" }}>{schema.description}</span> } : undefined);

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  required?: boolean;
  value: unknown;
  onChange: (value: unknown) => void;
}

/** One field: label, required mark, help, error, and its control. */
export function FieldEditor({ name, path, schema: raw, required, value, onChange }: FieldProps) {
  const { root, errors } = useContext(FormContext);
  const { schema: unwrapped } = unwrap(raw, root);
  let schema = unwrapped;
  let widget = widgetOf(schema, root);
  if (widget === "raw" || widget === "scalar") {
    // anyOf of different shapes (string | list, list | map): the one the value has.
    const alternative = schema.anyOf && widget === "raw" ? pickAlternative(schema, root, value) : undefined;
    if (alternative) {
      schema = alternative;
      widget = widgetOf(schema, root);
    }
  }
  if (widget === "hidden") return null;
  const error = errors?.[path];
  const label = labelOf(name, schema);
  const nestedError = !error && hasErrorsUnder(errors, path);

  if (widget === "object") {
    return (
      <Card size="small" title={<span title={schema.description}>{label}{required ? <span style={{ color: "var(--ant-color-error, #ff4d4f)" }}> *</span> : null}</span>}
        style={{ marginBottom: 16, borderColor: nestedError ? "#ff4d4f" : undefined }} data-testid={testIdOf(path)}>
        {error && <div style={{ color: "#ff4d4f", marginBottom: 8 }}>{error}</div>}
        <ObjectFields schema={schema} path={path} value={isRecord(value) ? value : undefined}
          onChange={(next) => onChange(next)} />
      </Card>
    );
  }
  return (
    <Form.Item label={label} required={required} tooltip={tooltipOf(schema)} validateStatus={error ? "error" : undefined} help={error}
      style={{ marginBottom: 14 }}>
      <div data-testid={testIdOf(path)}>
        <Control widget={widget} schema={schema} path={path} value={value} onChange={onChange} />
      </div>
    </Form.Item>
  );
}

function Control({ widget, schema, path, value, onChange }: { widget: string; schema: JsonSchema; path: string; value: unknown; onChange: (value: unknown) => void }) {
  const { root, disabled } = useContext(FormContext);
  const { t } = useTranslation("pipeline");
  const placeholder = placeholderOf(schema);
  const text = value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  const fromText = (next: string) => onChange(next === "" ? undefined : next);
  switch (widget) {
    case "sql":
      return <Input.TextArea value={text} placeholder={placeholder} autoSize={{ minRows: 1, maxRows: 8 }} style={MONO} disabled={disabled}
        onChange={(event) => fromText(event.target.value)} spellCheck={false} />;
    case "select":
      return <Select allowClear value={value as string | undefined} placeholder={placeholder} disabled={disabled} style={{ width: "100%" }}
        options={(schema.enum ?? []).map((option) => ({ value: option as string, label: String(option) }))}
        onChange={(next) => onChange(next ?? undefined)} />;
    case "switch": {
      const fallback = typeof schema.default === "boolean" ? schema.default : false;
      return <Switch checked={typeof value === "boolean" ? value : fallback} disabled={disabled} onChange={(checked) => onChange(checked)} />;
    }
    case "number":
      return <InputNumber style={{ width: "100%" }} value={typeof value === "number" ? value : undefined} placeholder={placeholder} disabled={disabled}
        min={schema.minimum} max={schema.maximum} precision={schema.type === "integer" ? 0 : undefined}
        suffix={unitLabel(schema, t)} onChange={(next) => onChange(next ?? undefined)} />;
    case "quantity":
      return <Input value={text} placeholder={placeholder} disabled={disabled} suffix={unitLabel(schema, t)}
        onChange={(event) => onChange(parseQuantity(event.target.value))} />;
    case "password":
      // `${VAR}` references stay readable: they are not secrets.
      return typeof value === "string" && /\$\{[^}]+\}/.test(value) ? (
        <Input value={text} disabled={disabled} onChange={(event) => fromText(event.target.value)} style={MONO} />
      ) : (
        <Input.Password value={text} placeholder={placeholder} disabled={disabled} autoComplete="new-password" onChange={(event) => fromText(event.target.value)} />
      );
    case "text":
      return <Input value={text} placeholder={placeholder} disabled={disabled} onChange={(event) => fromText(event.target.value)} />;
    case "scalar":
      return <Input value={text} placeholder={placeholder} disabled={disabled} onChange={(event) => onChange(parseScalar(event.target.value, schema, root))} />;
    case "tags": {
      const list = Array.isArray(value) ? value.map(String) : typeof value === "string" ? [value] : [];
      const items = unwrap(schema.items ?? {}, root).schema;
      const allowsString = typeof value === "string";
      return <Select mode="tags" value={list} disabled={disabled} style={{ width: "100%" }} placeholder={placeholder} tokenSeparators={[","]}
        options={(items.enum ?? []).map((option) => ({ value: String(option), label: String(option) }))} open={items.enum ? undefined : false}
        onChange={(next: string[]) => onChange(next.length === 0 ? undefined : allowsString && next.length === 1 ? next[0] : next)} />;
    }
    case "keyvalue": {
      const extra = typeof schema.additionalProperties === "object" ? unwrap(schema.additionalProperties, root).schema : {};
      return <KeyValueEditor value={isRecord(value) ? value : undefined} testId={`${testIdOf(path)}-entries`} monospace={extra["x-widget"] === "sql-expression"}
        parse={(next) => parseScalar(next, extra, root)} onChange={(next) => onChange(next)} />;
    }
    case "list":
      return <ObjectList schema={schema} path={path} value={Array.isArray(value) ? value : []} onChange={onChange} />;
    case "union":
      return <UnionFields schema={schema} path={path} value={value} onChange={onChange} />;
    default:
      return <RawEditor value={value} onChange={onChange} testId={`${testIdOf(path)}-raw`} />;
  }
}

function unitLabel(schema: JsonSchema, t: (key: string) => string): ReactNode {
  const unit = schema["x-unit"];
  if (!unit) return undefined;
  if (unit === "duration") return t("form.unit.duration");
  if (unit === "bytes") return t("form.unit.bytes");
  return unit;
}

/** A list of objects (transform operations, static rows…): a card per item. */
function ObjectList({ schema, path, value, onChange }: { schema: JsonSchema; path: string; value: unknown[]; onChange: (value: unknown) => void }) {
  const { t } = useTranslation("pipeline");
  const { root, disabled } = useContext(FormContext);
  const items = unwrap(schema.items ?? {}, root).schema;
  const variants = variantsOf(items, root);
  const set = (index: number, next: unknown) => onChange(value.map((item, at) => (at === index ? next ?? {} : item)));
  return (
    <div>
      {value.map((item, index) => (
        <Card key={index} size="small" style={{ marginBottom: 8 }} data-testid={`${testIdOf(childPath(path, index))}`}
          title={`#${index + 1}`}
          extra={<Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t("form.remove")} disabled={disabled}
            onClick={() => { const next = value.filter((_, at) => at !== index); onChange(next.length ? next : undefined); }} />}>
          {variants ? (
            <UnionFields schema={items} path={childPath(path, index)} value={item} onChange={(next) => set(index, next)} />
          ) : (
            <ObjectFields schema={items} path={childPath(path, index)} value={isRecord(item) ? item : undefined} onChange={(next) => set(index, next)} />
          )}
        </Card>
      ))}
      <Button size="small" type="dashed" icon={<PlusOutlined />} disabled={disabled} data-testid={`${testIdOf(path)}-add`}
        onClick={() => onChange([...value, variants ? { ...variants[0].consts } : {}])}>
        {t("form.addItem")}
      </Button>
    </div>
  );
}

/** A discriminated union: the variant's Select, then that variant's fields. */
function UnionFields({ schema, path, value, onChange }: { schema: JsonSchema; path: string; value: unknown; onChange: (value: unknown) => void }) {
  const { t } = useTranslation("pipeline");
  const { root, disabled } = useContext(FormContext);
  const variants = variantsOf(schema, root) ?? [];
  const current = variantOf(variants, value);
  const record = isRecord(value) ? value : undefined;
  const choose = (index: number | undefined) => {
    if (index === undefined) return onChange(undefined);
    const variant = variants[index];
    // Fields the new variant also has are kept.
    const kept = Object.fromEntries(Object.entries(record ?? {}).filter(([key]) => variant.schema.properties && key in variant.schema.properties));
    onChange({ ...kept, ...variant.consts });
  };
  return (
    <div>
      <Form.Item label={t("form.variant")} style={{ marginBottom: 12 }}>
        <div data-testid={`${testIdOf(path)}-variant`}>
          <Select allowClear style={{ width: "100%" }} disabled={disabled} value={current ? variants.indexOf(current) : undefined}
            placeholder={t("form.chooseVariant")}
            options={variants.map((variant, index) => ({ value: index, label: variant.schema.title && !/^[A-Z][A-Za-z]+$/.test(variant.schema.title) ? variant.schema.title : variant.label }))}
            onChange={(next: number | undefined) => choose(next)} />
        </div>
      </Form.Item>
      {current && (
        <ObjectFields schema={current.schema} path={path} value={record} skip={Object.keys(current.consts)}
          onChange={(next) => onChange({ ...(next ?? {}), ...current.consts })} />
      )}
    </div>
  );
}

interface ObjectProps {
  schema: JsonSchema;
  path: string;
  value: Record<string, unknown> | undefined;
  onChange: (value: Record<string, unknown> | undefined) => void;
  /** Keys not shown (the variant's consts, omitted top-level keys). */
  skip?: string[];
  /** Only these keys (a group's), in this order. */
  only?: string[];
}

/** An object's fields; the `x-advanced` ones in a folded "Advanced" panel. */
export function ObjectFields({ schema, path, value, onChange, skip = [], only }: ObjectProps) {
  const { t } = useTranslation("pipeline");
  const { root, errors } = useContext(FormContext);
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const keys = (only ?? Object.keys(properties)).filter((key) => key in properties && !skip.includes(key));
  const render = (key: string) => (
    <FieldEditor key={key} name={key} path={childPath(path, key)} schema={properties[key]} required={required.has(key)} value={value?.[key]}
      onChange={(next) => {
        const updated = withKey(value, key, next);
        onChange(Object.keys(updated).length ? updated : undefined);
      }} />
  );
  const isAdvanced = (key: string) => resolveAdvanced(properties[key], root);
  const basic = keys.filter((key) => !isAdvanced(key));
  const advanced = keys.filter(isAdvanced);
  const advancedErrors = advanced.some((key) => hasErrorsUnder(errors, childPath(path, key)));
  return (
    <>
      {basic.map(render)}
      {advanced.length > 0 && (
        <Collapse size="small" ghost defaultActiveKey={advancedErrors ? ["advanced"] : []} style={{ marginBottom: 8 }}
          data-testid={`advanced-${path || "root"}`}
          items={[{ key: "advanced", label: t("form.advanced", { count: advanced.length }), children: advanced.map(render), forceRender: true }]} />
      )}
    </>
  );
}

function resolveAdvanced(schema: JsonSchema, root: JsonSchema): boolean {
  if (schema["x-advanced"]) return true;
  return !!unwrap(schema, root).schema["x-advanced"];
}
