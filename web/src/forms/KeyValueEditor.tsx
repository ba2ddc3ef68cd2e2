/** A map of names to scalar values (`field_mappings`, `columns`, `options`) as rows. */
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Button, Input, Space } from "antd";
import { useTranslation } from "react-i18next";

interface Props {
  value: Record<string, unknown> | undefined;
  onChange: (value: Record<string, unknown> | undefined) => void;
  /** Text → stored value (numbers stay numbers where the schema allows them). */
  parse: (text: string) => unknown;
  testId: string;
  monospace?: boolean;
}

export default function KeyValueEditor({ value, onChange, parse, testId, monospace }: Props) {
  const { t } = useTranslation("pipeline");
  const entries = Object.entries(value ?? {});
  const emit = (next: [string, unknown][]) => onChange(next.length ? Object.fromEntries(next) : undefined);
  const rename = (index: number, key: string) => {
    // Keys must stay unique; an edit that collides is refused (the row keeps its name).
    if (entries.some(([other], at) => at !== index && other === key)) return;
    emit(entries.map((entry, at) => (at === index ? [key, entry[1]] : entry)));
  };
  const style = monospace ? { fontFamily: "var(--ant-font-family-code, monospace)" } : undefined;
  return (
    <div data-testid={testId}>
      {entries.map(([key, item], index) => (
        <Space.Compact key={index} style={{ display: "flex", marginBottom: 6 }}>
          <Input style={{ width: "40%" }} value={key} placeholder={t("form.key")} onChange={(event) => rename(index, event.target.value)} data-testid={`${testId}-key-${index}`} />
          <Input style={{ flex: 1, ...style }} value={item == null ? "" : String(item)} placeholder={t("form.value")}
            onChange={(event) => emit(entries.map((entry, at) => (at === index ? [key, parse(event.target.value) ?? ""] : entry)))}
            data-testid={`${testId}-value-${index}`} />
          <Button icon={<DeleteOutlined />} aria-label={t("form.remove")} onClick={() => emit(entries.filter((_, at) => at !== index))} />
        </Space.Compact>
      ))}
      <Button size="small" type="dashed" icon={<PlusOutlined />} data-testid={`${testId}-add`}
        onClick={() => {
          let name = "";
          for (let n = 1; entries.some(([key]) => key === name); n++) name = `field_${n}`;
          emit([...entries, [name, ""]]);
        }}>
        {t("form.addEntry")}
      </Button>
    </div>
  );
}
