/** A field the form has no widget for (nested plugin blocks, free-form objects): edited as
 *  YAML text, applied when it parses. */
import { Input, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { parse, stringify } from "yaml";

interface Props {
  value: unknown;
  onChange: (value: unknown) => void;
  testId: string;
}

const show = (value: unknown) => (value === undefined ? "" : stringify(value, { lineWidth: 0 }).trimEnd());

export default function RawEditor({ value, onChange, testId }: Props) {
  const { t } = useTranslation("pipeline");
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState<string>();
  // Follow outside changes (undo, YAML edits) unless the text already means the same.
  useEffect(() => {
    setText((current) => {
      try {
        if (JSON.stringify(parse(current)) === JSON.stringify(value ?? null)) return current;
      } catch {
        /* the user's text does not parse: replace it */
      }
      return show(value);
    });
  }, [value]);
  return (
    <div data-testid={testId}>
      <Input.TextArea
        value={text}
        autoSize={{ minRows: 2, maxRows: 12 }}
        style={{ fontFamily: "var(--ant-font-family-code, monospace)", fontSize: 12 }}
        onChange={(event) => {
          setText(event.target.value);
          try {
            const parsed: unknown = event.target.value.trim() ? parse(event.target.value) : undefined;
            setError(undefined);
            onChange(parsed ?? undefined);
          } catch (problem) {
            setError(problem instanceof Error ? problem.message.split("\n")[0] : String(problem));
          }
        }}
      />
      <Typography.Text type={error ? "danger" : "secondary"} style={{ fontSize: 12 }}>
        {error ?? t("form.rawHint")}
      </Typography.Text>
    </div>
  );
}
