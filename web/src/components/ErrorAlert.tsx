import { Alert } from "antd";
import { ApiError } from "../api/client";

/** An error as one line: its message, then the server's hint when it has one (for toasts
 *  and inline notes; `ErrorAlert` shows the two apart). */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof ApiError && error.hint ? `${message} ${error.hint}` : message;
}

/** An API error as the user reads it: the message, and the server's hint when it has one. */
export default function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof ApiError ? error.hint : null;
  return (
    <Alert type="error" showIcon message={message} description={hint ?? undefined}
      action={onRetry ? <a onClick={onRetry}>↻</a> : undefined} style={{ marginBottom: 16 }} />
  );
}
