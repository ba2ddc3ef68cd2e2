/**
 * A plugin's property form, generated from its JSON Schema (`pluginSchema(kind, name)`):
 * fields grouped as the design doc's property panel (§4.1: basic, connection, query,
 * processing, performance, error handling), advanced fields folded away, errors from the
 * server's diagnostics on their fields. The value stays minimal: defaults are placeholders,
 * and a cleared field is removed, so the YAML holds only what the user wrote.
 */
import { Empty, Form, Tabs } from "antd";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { JsonSchema, PluginKind } from "../api/plugins";
import { FormContext, ObjectFields } from "./fields";
import { GROUPS, groupOf, hasErrorsUnder, resolve, type Group } from "./schema";

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Field path (`write.mode`, `operations[0].op`) → message, shown on the field. */
  errors?: Record<string, string>;
  /** Top-level keys not to show (`type`, `cases`, `outputs`). Default: `["type"]`. */
  omit?: string[];
  /** Tabs by property group; else one list. */
  grouped?: boolean;
  /** Decides the default group of a field (a processor's fields are "processing"). */
  kind?: PluginKind;
  disabled?: boolean;
}

/** Which top-level keys go in which group, in schema order. */
export function groupFields(schema: JsonSchema, keys: string[], kind?: PluginKind): [Group, string[]][] {
  const properties = schema.properties ?? {};
  const byGroup = new Map<Group, string[]>();
  for (const key of keys) {
    const group = groupOf(key, properties[key] ?? {}, kind);
    (byGroup.get(group) ?? byGroup.set(group, []).get(group)!).push(key);
  }
  return GROUPS.filter((group) => byGroup.has(group)).map((group) => [group, byGroup.get(group)!]);
}

export default function SchemaForm({ schema, value, onChange, errors, omit = ["type"], grouped, kind, disabled }: SchemaFormProps) {
  const { t } = useTranslation("pipeline");
  const root = schema;
  const top = useMemo(() => resolve(schema, root), [schema, root]);
  const keys = Object.keys(top.properties ?? {}).filter((key) => !omit.includes(key));
  const context = useMemo(() => ({ root, errors, disabled }), [root, errors, disabled]);
  const change = (next: Record<string, unknown> | undefined) => onChange(next ?? {});

  if (!keys.length) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("form.noFields")} data-testid="schema-form-empty" />;
  }
  const groups = grouped ? groupFields(top, keys, kind) : [];
  return (
    <FormContext.Provider value={context}>
      <Form layout="vertical" component={false} disabled={disabled}>
        <div data-testid="schema-form">
          {grouped && groups.length > 1 ? (
            <Tabs size="small" data-testid="schema-form-groups"
              items={groups.map(([group, only]) => {
                const failing = only.some((key) => hasErrorsUnder(errors, key));
                return {
                  key: group,
                  label: <span data-testid={`group-${group}`} style={failing ? { color: "#ff4d4f" } : undefined}>{t(`form.group.${group}`)}{failing ? " •" : ""}</span>,
                  forceRender: true,
                  children: <ObjectFields schema={top} path="" value={value} onChange={change} only={only} />,
                };
              })} />
          ) : (
            <ObjectFields schema={top} path="" value={value} onChange={change} only={keys} />
          )}
        </div>
      </Form>
    </FormContext.Provider>
  );
}
