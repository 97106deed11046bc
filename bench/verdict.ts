// Verdict parsing cost (not part of `npm test`): `node --import tsx bench/verdict.ts`.
// A 50 MB stream-json log (the success fixture's events repeated, with assistant text padded to
// about 4 KB per line) is read three ways: a plain line split (the floor: find newlines, nothing
// else), the StreamVerdictReader, and the LogTail over the real file. Reports MB/s and RSS growth.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogTail } from '../src/verdict/log-tail.ts';
import { StreamVerdictReader } from '../src/verdict/stream-reader.ts';

const MB = 1024 * 1024;
const TARGET = 50 * MB;
const lines = readFileSync(new URL('../test/fixtures/streams/success.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n');
const pad = 'x'.repeat(4000);
const body =
  lines
    .slice(0, -1)
    .map((l) => l.replace('"text":"', `"text":"${pad}`))
    .join('\n') + '\n';
const reps = Math.ceil(TARGET / Buffer.byteLength(body));
const dir = mkdtempSync(join(tmpdir(), 'wd-bench-'));
const file = join(dir, '1.log');
writeFileSync(file, body.repeat(reps) + lines.at(-1) + '\n');
const data = readFileSync(file);
const size = data.length;
const CHUNK = 64 * 1024;

function timeIt(name: string, fn: () => void): void {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rss1 = process.memoryUsage().rss;
  console.log(
    `${name.padEnd(34)} ${(size / MB / (ms / 1000)).toFixed(0).padStart(6)} MB/s  ${ms.toFixed(0).padStart(6)} ms  RSS +${((rss1 - rss0) / MB).toFixed(1)} MB`,
  );
}

console.log(
  `stream: ${(size / MB).toFixed(1)} MB, ${data.toString('latin1').split('\n').length - 1} lines; node ${process.version}, ${process.arch}`,
);
let n = 0;
timeIt('floor: newline split, 64 KiB chunks', () => {
  for (let at = 0; at < size; at += CHUNK) {
    const c = data.subarray(at, at + CHUNK);
    for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) n++;
  }
});
timeIt('StreamVerdictReader, 64 KiB chunks', () => {
  const r = new StreamVerdictReader();
  for (let at = 0; at < size; at += CHUNK) r.push(data.subarray(at, at + CHUNK));
  r.end();
  if (r.result().totalCostUsd !== 0.0421) throw new Error('wrong verdict');
});
timeIt('LogTail over the file (read + parse)', () => {
  const t = new LogTail(file, { fromOffset: 0, pollMs: 60_000 });
  const v = t.finish();
  if (v.numTurns !== 3) throw new Error('wrong verdict');
});
rmSync(dir, { recursive: true, force: true });
if (n === 0) throw new Error('no lines');
