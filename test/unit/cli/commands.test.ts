// The command table: one meaning per option name, unique short forms, a summary and an example
// for every command.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allOptions, COMMANDS, GLOBAL_OPTIONS } from '../../../src/cli/commands.ts';

describe('the command table', () => {
  test('an option name means the same everywhere (type and short form), and short forms are unique', () => {
    const byName = new Map<string, string>();
    const shorts = new Map<string, string>();
    for (const o of [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => [...c.options])]) {
      const sig = `${'value' in o ? 'value' : 'flag'} ${'short' in o ? o.short : ''}`;
      assert.equal(byName.get(o.name) ?? sig, sig, `--${o.name}`);
      byName.set(o.name, sig);
      if ('short' in o) {
        assert.equal(shorts.get(o.short) ?? o.name, o.name, `-${o.short}`);
        shorts.set(o.short, o.name);
      }
    }
    assert.equal(allOptions().length, byName.size);
  });
  test('every command has a summary and an example that runs that command', () => {
    for (const c of COMMANDS) {
      assert.ok(c.summary.length > 0, c.name);
      assert.ok(c.example.includes(`warden ${c.name}`), `${c.name}: ${c.example}`);
    }
  });
});
