// The worker's stream-json output as recorded in test/fixtures/streams/, and the verdict the
// reader makes of it, whole or pushed in chunks of the given sizes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerVerdict } from '../../src/policy/verdict.ts';
import { StreamVerdictReader } from '../../src/verdict/stream-reader.ts';
import { FIXTURES } from './paths.ts';

export const streamFixture = (name: string): Buffer => readFileSync(join(FIXTURES, 'streams', `${name}.jsonl`));

export function readVerdict(bytes: Uint8Array, chunks: number[] = []): WorkerVerdict {
  const r = new StreamVerdictReader();
  let at = 0;
  for (const c of chunks) {
    r.push(bytes.subarray(at, Math.min(bytes.length, at + c)));
    at = Math.min(bytes.length, at + c);
  }
  r.push(bytes.subarray(at));
  r.end();
  return r.result();
}
