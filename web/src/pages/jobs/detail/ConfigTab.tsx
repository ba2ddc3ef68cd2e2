/** The job's YAML, read-only: in the shared YAML editor when it exists, else plain text. */
import { Spin } from "antd";
import { lazy, Suspense, type ComponentType } from "react";
import type { Diagnostic } from "../../../api/jobs";

interface YamlEditorProps {
  value: string;
  onChange?: (value: string) => void;
  diagnostics?: Diagnostic[];
  readOnly?: boolean;
}

// Another helper writes the editor; a glob import lets this page build with or without it.
const editors = import.meta.glob<{ default: ComponentType<YamlEditorProps> }>("../../../designer/yaml/YamlEditor.tsx");
const loadEditor = Object.values(editors)[0];
const YamlEditor = loadEditor ? lazy(loadEditor) : null;

export function YamlView({ value, diagnostics }: { value: string; diagnostics?: Diagnostic[] }) {
  const plain = (
    <pre data-testid="job-yaml" style={{ background: "#fafafa", border: "1px solid #f0f0f0", borderRadius: 6,
      padding: 12, maxHeight: 560, overflow: "auto", fontSize: 12, margin: 0 }}>{value}</pre>
  );
  if (!YamlEditor) return plain;
  return (
    <Suspense fallback={<Spin />}>
      <div data-testid="job-yaml"><YamlEditor value={value} readOnly diagnostics={diagnostics ?? []} onChange={() => undefined} /></div>
    </Suspense>
  );
}

export default function ConfigTab({ yaml, diagnostics }: { yaml: string; diagnostics: Diagnostic[] }) {
  return <YamlView value={yaml} diagnostics={diagnostics} />;
}
