/**
 * The one HTTP client of the console. The server answers every error as
 * `{"error": {message, field, hint, details}}` (server/errors.py); `ApiError` carries it so a
 * page can show the message, point at the field and print the hint.
 */

export interface ErrorDetail {
  field?: string | null;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly field: string | null;
  readonly hint: string | null;
  readonly details: ErrorDetail[];

  constructor(status: number, message: string, field: string | null = null,
              hint: string | null = null, details: ErrorDetail[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.field = field;
    this.hint = hint;
    this.details = details;
  }
}

export const API_BASE = "/api/v1";

type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Calls `/api/v1{path}`; resolves with the decoded JSON (or text), rejects with ApiError. */
export async function api<T>(method: string, path: string,
                             options: { body?: unknown; query?: Query; signal?: AbortSignal } = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(withQuery(`${API_BASE}${path}`, options.query), {
      method,
      headers: options.body === undefined ? undefined : { "Content-Type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "The FustGo server does not answer.", null,
      "Check that `fustgo serve` is running and reachable from this browser.");
  }
  const type = response.headers.get("content-type") ?? "";
  const payload: unknown = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = (payload as { error?: { message?: string; field?: string; hint?: string; details?: ErrorDetail[] } })?.error;
    throw new ApiError(response.status, error?.message ?? `${response.status} ${response.statusText}`,
      error?.field ?? null, error?.hint ?? null, error?.details ?? []);
  }
  return payload as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => api<T>("GET", path, { query, signal });
export const post = <T>(path: string, body?: unknown, query?: Query) => api<T>("POST", path, { body, query });
export const put = <T>(path: string, body?: unknown) => api<T>("PUT", path, { body });
export const del = <T>(path: string) => api<T>("DELETE", path);

/** A paged list as the server returns it. */
export interface Page<T> {
  items: T[];
  total: number;
  page?: number;
  page_size?: number;
}
