/** The YAML side of the designer: the CodeMirror editor (designer/yaml/YamlEditor)
 *  with syntax errors and the server's diagnostics underlined. */
import type { Diagnostic } from "../api/jobs";
import YamlEditor from "./yaml/YamlEditor";

interface Props {
  value: string;
  onChange: (text: string) => void;
  diagnostics: Diagnostic[];
}

export default function YamlPane({ value, onChange, diagnostics }: Props) {
  return (
    <div className="fg-yaml" data-testid="yaml-pane">
      <YamlEditor value={value} onChange={onChange} diagnostics={diagnostics} height="100%" />
    </div>
  );
}
