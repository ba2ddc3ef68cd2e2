/**
 * The pipeline's YAML in CodeMirror 6: YAML highlighting, the server's (or the parser's)
 * diagnostics underlined where they point, with gutter markers and hover messages.
 */
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import type { EditorView } from "@codemirror/view";
import CodeMirror from "@uiw/react-codemirror";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { diagnosticRange } from "./ranges";

export interface EditorDiagnostic {
  line: number | null;
  column: number | null;
  message: string;
  severity: "error" | "warning" | "info" | string;
}

export interface YamlEditorProps {
  value: string;
  onChange?: (value: string) => void;
  diagnostics?: EditorDiagnostic[];
  readOnly?: boolean;
  /** CSS height; default fills the parent ("100%"). */
  height?: string;
}

const toSeverity = (severity: string): CmDiagnostic["severity"] =>
  severity === "error" ? "error" : severity === "warning" ? "warning" : "info";

export default function YamlEditor({ value, onChange, diagnostics = [], readOnly, height = "100%" }: YamlEditorProps) {
  const { t } = useTranslation("pipeline");
  const [view, setView] = useState<EditorView>();
  const extensions = useMemo(() => [yaml(), lintGutter()], []);

  // Re-applied when the diagnostics change; CodeMirror maps them through later edits.
  useEffect(() => {
    if (!view) return;
    const text = view.state.doc.toString();
    const marks: CmDiagnostic[] = diagnostics.map((item) => {
      const range = diagnosticRange(text, item.line, item.column);
      return { from: Math.min(range.from, text.length), to: Math.min(range.to, text.length), severity: toSeverity(item.severity), message: item.message, source: "fustgo" };
    });
    view.dispatch(setDiagnostics(view.state, marks));
    // The text is in the deps so a reloaded document gets its marks again.
  }, [view, diagnostics, value]);

  return (
    <div data-testid="yaml-editor" aria-label={t("yaml.label")} style={{ height, overflow: "hidden", border: "1px solid var(--ant-color-border, #d9d9d9)", borderRadius: 6 }}
      data-readonly={readOnly ? "true" : undefined} data-problems={diagnostics.length}>
      <CodeMirror
        value={value}
        height={height}
        extensions={extensions}
        readOnly={readOnly}
        editable={!readOnly}
        basicSetup={{ foldGutter: true, highlightActiveLine: !readOnly, autocompletion: false }}
        onChange={(next) => onChange?.(next)}
        onCreateEditor={(created) => setView(created)}
        style={{ height: "100%", fontSize: 13 }}
      />
    </div>
  );
}
