/** A node's (or edge's) validation messages, at the top of its panel. */
import { Alert } from "antd";
import type { Problem } from "../types";

export default function ProblemList({ problems, testId }: { problems: Problem[]; testId?: string }) {
  if (!problems.length) return null;
  return (
    <div className="fg-panel-problems" data-testid={testId}>
      {problems.map((problem, index) => (
        <Alert key={index} type={problem.severity === "error" ? "error" : "warning"} showIcon
          message={problem.field ? <><code>{problem.field}</code> {problem.message}</> : problem.message}
          description={problem.field ? undefined : problem.hint ?? undefined} />
      ))}
    </div>
  );
}
