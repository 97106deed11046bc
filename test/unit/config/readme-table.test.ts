// README.md's config reference table against the schema: every key the schema accepts is
// documented there, and every key documented there is one the schema accepts. Keys are compared
// as `table.key` (`source.github.repo`, `backoff.<kind>.base`), walking the zod schema itself, so a
// new key without a README row (or a README row for a removed key) fails here, by name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { configTables } from '../../../src/config/schema.ts';
import { FAILURE_KINDS } from '../../../src/policy/failure-kind.ts';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The schema under its optional/default/transform wrappers. */
function unwrap(s: z.core.$ZodType): z.core.$ZodType {
  if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
    return unwrap(s.unwrap());
  if (s instanceof z.ZodPipe) return unwrap(s.in);
  return s;
}

/** `table.key` for every key of every table, nested tables included. [backoff.<kind>] is one
 * table for all failure kinds, as the README writes it. */
function schemaKeys(shape: Record<string, z.core.$ZodType>, prefix: string[] = []): string[] {
  const out: string[] = [];
  for (const [key, sub] of Object.entries(shape)) {
    const inner = unwrap(sub);
    const name = prefix[0] === 'backoff' && (FAILURE_KINDS as readonly string[]).includes(key) ? '<kind>' : key;
    if (inner instanceof z.ZodObject) out.push(...schemaKeys(inner.shape, [...prefix, name]));
    else if (prefix.length === 0) out.push(`${name} (a key outside any table)`);
    else out.push([...prefix, name].join('.'));
  }
  return [...new Set(out)];
}

/** The keys in the README's `| key | default | meaning |` table: a first cell like
 * "`[worker] memory_max`" or "`[alerts] retry_base`, `retry_max`". */
function readmeKeys(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\|\s*key\s*\|\s*default\s*\|\s*meaning\s*\|/.test(l));
  assert.ok(start >= 0, 'README.md has no "| key | default | meaning |" table');
  const out: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1] ?? '';
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    const first = /^\[([^\]]+)\]\s+(\S+)$/.exec(names[0] ?? '');
    assert.ok(first, `README config table row does not start with "\`[table] key\`": ${line}`);
    const [, table, key] = first;
    for (const k of [key, ...names.slice(1)]) out.push(`${table}.${k}`);
  }
  return out;
}

test('every schema key is in the README config table, and every key there is in the schema', () => {
  const schema = schemaKeys(configTables.shape);
  const readme = readmeKeys(README);
  assert.ok(schema.length > 50 && readme.length > 50, `walked ${schema.length} schema keys and ${readme.length} README keys`);
  const undocumented = schema.filter((k) => !readme.includes(k));
  const unknown = readme.filter((k) => !schema.includes(k));
  assert.deepEqual(undocumented, [], `keys the README config table does not document: ${undocumented.join(', ')}`);
  assert.deepEqual(unknown, [], `keys in the README config table that the schema does not accept: ${unknown.join(', ')}`);
  const twice = readme.filter((k, i) => readme.indexOf(k) !== i);
  assert.deepEqual(twice, [], `keys documented twice in the README config table: ${twice.join(', ')}`);
});

test('every failure kind (the <kind> of [backoff.<kind>]) is in the README list of failure kinds', () => {
  const start = README.indexOf('Failure kinds (the `<kind>` in `[backoff.<kind>]`)');
  assert.ok(start >= 0, 'README.md has no "Failure kinds (the `<kind>` in `[backoff.<kind>]`)" paragraph');
  const paragraph = README.slice(start, README.indexOf('\n\n', start));
  const missing = FAILURE_KINDS.filter((k) => !paragraph.includes(`\`${k}\``));
  assert.deepEqual(missing, [], `failure kinds the README list does not name: ${missing.join(', ')}`);
});
