/**
 * The server's WebSocket (`/api/v1/ws`, server/api/ws.py): one shared connection per tab,
 * reopened after a drop, re-subscribing what its hooks ask for.
 */
import { useEffect, useRef } from "react";

export type LiveEventType = "job_status" | "job_progress" | "log_entry" | "metric_update";

export interface LiveEvent<D = Record<string, unknown>> {
  type: LiveEventType;
  job_id: string;
  execution_id: string | null;
  timestamp: string;
  data: D;
}

type Listener = (event: LiveEvent) => void;

class LiveConnection {
  private socket: WebSocket | null = null;
  private listeners = new Map<Listener, string>();
  private counts = new Map<string, number>();
  private retryMs = 500;
  private closedOnPurpose = false;

  subscribe(jobId: string, listener: Listener): () => void {
    this.listeners.set(listener, jobId);
    const count = this.counts.get(jobId) ?? 0;
    this.counts.set(jobId, count + 1);
    if (count === 0) this.send({ type: "subscribe", job_id: jobId });
    this.open();
    return () => {
      this.listeners.delete(listener);
      const left = (this.counts.get(jobId) ?? 1) - 1;
      if (left <= 0) {
        this.counts.delete(jobId);
        this.send({ type: "unsubscribe", job_id: jobId });
      } else this.counts.set(jobId, left);
    };
  }

  private open(): void {
    if (this.socket || typeof WebSocket === "undefined") return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/ws`);
    this.socket = socket;
    this.closedOnPurpose = false;
    socket.onopen = () => {
      this.retryMs = 500;
      for (const jobId of this.counts.keys()) this.send({ type: "subscribe", job_id: jobId });
    };
    socket.onmessage = (message) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (!event.job_id || !["job_status", "job_progress", "log_entry", "metric_update"].includes(event.type)) return;
      for (const [listener, jobId] of this.listeners) {
        if (jobId === "*" || jobId === event.job_id) listener(event);
      }
    };
    socket.onclose = () => {
      this.socket = null;
      if (this.closedOnPurpose || this.counts.size === 0) return;
      window.setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private send(message: object): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

const connection = new LiveConnection();

/** Calls `onEvent` for every live event of `jobId` ("*": every job) while mounted. */
export function useLiveEvents(jobId: string | null | undefined, onEvent: Listener): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!jobId) return undefined;
    return connection.subscribe(jobId, (event) => handler.current(event));
  }, [jobId]);
}
