/** The job's YAML, read-only, in the designer's YAML editor (diagnostics underlined). */
import type { Diagnostic } from "../../../api/jobs";
import YamlEditor from "../../../designer/yaml/YamlEditor";

export function YamlView({ value, diagnostics }: { value: string; diagnostics?: Diagnostic[] }) {
  return (
    <div data-testid="job-yaml" style={{ border: "1px solid #f0f0f0", borderRadius: 6, maxHeight: 560, overflow: "auto" }}>
      <YamlEditor value={value} readOnly diagnostics={diagnostics ?? []} height="auto" />
    </div>
  );
}

export default function ConfigTab({ yaml, diagnostics }: { yaml: string; diagnostics: Diagnostic[] }) {
  return <YamlView value={yaml} diagnostics={diagnostics} />;
}
