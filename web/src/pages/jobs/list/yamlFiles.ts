/** Export of jobs as one multi-document YAML file, and import of such a file. */
import { parseAllDocuments } from "yaml";
import { createJob, getJob, type Job } from "../../../api/jobs";

/** Saves `text` as a file named `name` through the browser. */
export function download(name: string, text: string, type = "application/yaml"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Each job's YAML as it is stored, one document each, headed by a comment naming the job. */
export async function exportJobs(jobIds: string[]): Promise<number> {
  const jobs: Job[] = await Promise.all(jobIds.map((id) => getJob(id)));
  const text = jobs
    .map((job) => `# job: ${job.job_name} (${job.job_id})\n${job.config_yaml.trimEnd()}\n`)
    .join("---\n");
  const name = jobs.length === 1 ? `${jobs[0].job_name}.yaml` : `fustgo-jobs-${jobs.length}.yaml`;
  download(name, text);
  return jobs.length;
}

export interface ImportOutcome {
  created: Job[];
  failed: { index: number; message: string }[];
}

/** Creates one job per YAML document of `text` (each keeps its own `name:`). */
export async function importJobs(text: string): Promise<ImportOutcome> {
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  const outcome: ImportOutcome = { created: [], failed: [] };
  for (const [index, document] of list.entries()) {
    const body = document.toString().trim();
    if (!body || body === "null") continue;
    try {
      outcome.created.push(await createJob({ config_yaml: `${body}\n` }));
    } catch (error) {
      outcome.failed.push({ index: index + 1, message: (error as Error).message });
    }
  }
  return outcome;
}
