// The GitHub source talks to GitHub only through the `gh` CLI (gh owns authentication), run with
// execa without a shell. Issue titles and bodies are data: they are parsed from JSON and end up in
// a prompt file, never in an argv or a shell. Every failure is classified into a cause, so the
// supervisor can log it once per distinct cause and retry on the next poll; none of them changes a
// task's state.
import { loadExeca } from '../host/execa.js';
import { z } from 'zod';
import { issueSchema, type GithubIssue } from './github-issue.js';

export const GH_FAILURES = ['not_installed', 'not_authenticated', 'network', 'rate_limited', 'malformed_json', 'failed'] as const;
export type GhFailure = (typeof GH_FAILURES)[number];

export type GhResult<T> = { ok: true; value: T } | { ok: false; cause: GhFailure; message: string };

const prSchema = z.object({ number: z.number().int(), url: z.string(), state: z.string() });
export type PullRequest = z.output<typeof prSchema>;

export interface GhOptions {
  /** The gh binary; tests put a fake one on PATH. */
  bin: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_GH: GhOptions = { bin: 'gh', timeoutMs: 60_000 };

/** Maps how gh failed to a cause. gh prints its reasons on stderr; these are its wordings. */
export function classifyGhFailure(f: { notFound?: boolean; timedOut?: boolean; stderr: string }): GhFailure {
  if (f.notFound) return 'not_installed';
  const s = f.stderr.toLowerCase();
  if (/rate limit|secondary rate|abuse detection/.test(s)) return 'rate_limited';
  if (/gh auth login|not logged in|authentication|http 401|bad credentials|token/.test(s)) return 'not_authenticated';
  if (
    f.timedOut ||
    /error connecting|internet connection|could not resolve|connection refused|network|timeout|timed out|no such host|tls|eof|dial tcp/.test(
      s,
    )
  )
    return 'network';
  return 'failed';
}

async function runGh(args: string[], o: GhOptions): Promise<GhResult<unknown>> {
  const execa = await loadExeca();
  const r = await execa(o.bin, args, {
    reject: false,
    timeout: o.timeoutMs,
    env: o.env,
    extendEnv: true,
    stdin: 'ignore',
    maxBuffer: 64 * 1024 * 1024,
  });
  const notFound = (r as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(r.message ?? ''));
  if (r.failed) {
    const stderr = String(r.stderr ?? '').trim();
    const cause = classifyGhFailure({ notFound, timedOut: r.timedOut, stderr });
    const why = notFound
      ? `${o.bin} not found on PATH (install the GitHub CLI: apt-get install gh, then gh auth login)`
      : stderr.split('\n').slice(-2).join(' ') || r.shortMessage;
    return { ok: false, cause, message: why ?? 'gh failed' };
  }
  try {
    return { ok: true, value: JSON.parse(String(r.stdout)) as unknown };
  } catch (err) {
    return { ok: false, cause: 'malformed_json', message: `gh printed something that is not JSON: ${(err as Error).message}` };
  }
}

export async function listLabelledIssues(
  repo: string,
  label: string,
  limit: number,
  o: GhOptions = DEFAULT_GH,
): Promise<GhResult<GithubIssue[]>> {
  const r = await runGh(
    [
      'issue',
      'list',
      '-R',
      repo,
      '-l',
      label,
      '--state',
      'open',
      '--limit',
      String(limit),
      '--json',
      'number,title,body,labels,updatedAt,url',
    ],
    o,
  );
  if (!r.ok) return r;
  const parsed = z.array(issueSchema).safeParse(r.value);
  if (!parsed.success)
    return { ok: false, cause: 'malformed_json', message: `unexpected issue list shape: ${z.prettifyError(parsed.error).split('\n')[0]}` };
  return { ok: true, value: parsed.data };
}

export async function findPullRequest(repo: string, branch: string, o: GhOptions = DEFAULT_GH): Promise<GhResult<PullRequest | null>> {
  const r = await runGh(['pr', 'list', '-R', repo, '--head', branch, '--state', 'all', '--json', 'number,url,state'], o);
  if (!r.ok) return r;
  const parsed = z.array(prSchema).safeParse(r.value);
  if (!parsed.success)
    return { ok: false, cause: 'malformed_json', message: `unexpected pr list shape: ${z.prettifyError(parsed.error).split('\n')[0]}` };
  return { ok: true, value: parsed.data[0] ?? null };
}
