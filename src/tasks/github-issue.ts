// A GitHub issue as warden reads it, and what it makes of one (pure): the task ID, the priority
// from its labels, and the prompt. src/tasks/github.ts fetches issues through `gh`.
import { z } from 'zod';

export const issueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z
    .string()
    .nullable()
    .transform((b) => b ?? ''),
  labels: z.array(z.object({ name: z.string() })).transform((ls) => ls.map((l) => l.name)),
  updatedAt: z.string(),
  url: z.string().optional(),
});
export type GithubIssue = z.output<typeof issueSchema>;

/** Priority from labels: the index of the first matching label in `priorityLabels`, else `fallback`. */
export function priorityFromLabels(labels: readonly string[], priorityLabels: readonly string[], fallback: number): number {
  for (let i = 0; i < priorityLabels.length; i++) if (labels.includes(priorityLabels[i] as string)) return i;
  return fallback;
}

export function taskIdForIssue(number: number): string {
  return `gh-${number}`;
}

/** Fills the prompt template. Plain text replacement: the result is file content, never a command. */
export function renderPrompt(template: string, repo: string, issue: GithubIssue, taskId: string): string {
  const values: Record<string, string> = {
    '{repo}': repo,
    '{number}': String(issue.number),
    '{title}': issue.title,
    '{body}': issue.body,
    '{url}': issue.url ?? `https://github.com/${repo}/issues/${issue.number}`,
    '{branch}': `warden/${taskId}`,
    '{task_id}': taskId,
  };
  // one pass, so a title containing "{body}" is not expanded again
  return template.replace(/\{(repo|number|title|body|url|branch|task_id)\}/g, (m) => values[m] ?? m);
}
