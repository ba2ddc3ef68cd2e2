/** The schedule and next runs of the jobs on the page (the list API returns summaries only). */
import { useEffect, useState } from "react";
import { getJob, type Job } from "../../../api/jobs";

export type JobExtras = Pick<Job, "scheduling" | "next_runs">;

export function useJobDetails(jobIds: string[], version: number): Record<string, JobExtras> {
  const [details, setDetails] = useState<Record<string, JobExtras>>({});
  const key = jobIds.join(",");
  useEffect(() => {
    let cancelled = false;
    void Promise.all(jobIds.map((id) => getJob(id).then((job) => [id, job] as const).catch(() => null)))
      .then((found) => {
        if (cancelled) return;
        const next: Record<string, JobExtras> = {};
        for (const item of found) if (item) next[item[0]] = { scheduling: item[1].scheduling, next_runs: item[1].next_runs };
        setDetails(next);
      });
    return () => { cancelled = true; };
    // key stands for jobIds, a new array on every render.
  }, [key, version]);
  return details;
}
