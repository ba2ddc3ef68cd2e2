/** "n errors, m warnings" in the toolbar; the list in a popover, each item leads to its node. */
import { CheckCircleFilled, CloseCircleFilled, LoadingOutlined, WarningFilled } from "@ant-design/icons";
import { Button, Empty, Popover } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { Problem } from "../types";

interface Props {
  errors: Problem[];
  warnings: Problem[];
  checking: boolean;
  onPick: (problem: Problem) => void;
}

export default function ValidationStatus({ errors, warnings, checking, onPick }: Props) {
  const { t } = useTranslation("designer");
  const [open, setOpen] = useState(false);
  const all = [...errors, ...warnings];
  const icon = checking ? <LoadingOutlined /> : errors.length ? <CloseCircleFilled style={{ color: "#f5222d" }} />
    : warnings.length ? <WarningFilled style={{ color: "#faad14" }} /> : <CheckCircleFilled style={{ color: "#52c41a" }} />;
  const label = errors.length || warnings.length
    ? t("validation.summary", { errors: errors.length, warnings: warnings.length })
    : t("validation.ok");
  const content = all.length ? (
    <ul className="fg-problem-list" data-testid="validation-list">
      {all.map((problem, index) => (
        <li key={index}>
          <a onClick={() => { setOpen(false); onPick(problem); }}>
            {problem.severity === "error" ? <CloseCircleFilled style={{ color: "#f5222d" }} /> : <WarningFilled style={{ color: "#faad14" }} />}
            <span>
              {problem.path && <code>{problem.path}</code>} {problem.message}
              {problem.hint && <em className="fg-problem-hint">{problem.hint}</em>}
            </span>
          </a>
        </li>
      ))}
    </ul>
  ) : <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("validation.none")} />;
  return (
    <Popover open={open} onOpenChange={setOpen} trigger="click" placement="bottomRight" title={t("validation.title")} content={content}>
      <Button type="text" icon={icon} data-testid="validation-status" data-errors={errors.length} data-warnings={warnings.length}>
        {label}
      </Button>
    </Popover>
  );
}
