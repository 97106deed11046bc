// argv to a command, a help text or a usage error, by the command table: every command's help,
// "did you mean" for unknown commands, subcommands and options, the argument checks, and README's
// usage block as `warden help` prints it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COMMANDS, subWords, topWords } from '../../../src/cli/commands.ts';
import { globalUsage, parseCommandLine, type ParsedCommandLine } from '../../../src/cli/parse.ts';
import { readmeSection } from '../../helpers/readme.ts';

function usageError(p: ParsedCommandLine): string {
  assert.equal(p.kind, 'usage-error', JSON.stringify(p));
  return p.kind === 'usage-error' ? p.message : '';
}

/** An argv that satisfies the command's required arguments. */
function argvFor(name: string): string[] {
  const c = COMMANDS.find((x) => x.name === name)!;
  return [...name.split(' '), ...c.args.filter((a) => !('optional' in a)).map(() => 'x1')];
}

describe('parseCommandLine', () => {
  test('every command parses to itself with its required arguments', () => {
    for (const c of COMMANDS) {
      const p = parseCommandLine(argvFor(c.name));
      assert.equal(p.kind, 'command', `${c.name}: ${JSON.stringify(p)}`);
      if (p.kind === 'command') assert.equal(p.name, c.name);
    }
  });

  test('every command has --help with its usage, each visible option and an example', () => {
    for (const c of COMMANDS) {
      for (const argv of [
        [...c.name.split(' '), '--help'],
        [...c.name.split(' '), '-h'],
        ['help', ...c.name.split(' ')],
      ]) {
        const p = parseCommandLine(argv);
        assert.equal(p.kind, 'help', argv.join(' '));
        if (p.kind !== 'help') continue;
        assert.match(p.text, new RegExp(`^usage: warden ${c.name}`), argv.join(' '));
        for (const o of c.options) if (!('hidden' in o)) assert.ok(p.text.includes(`--${o.name}`), `${c.name} --help names --${o.name}`);
        assert.ok(p.text.includes(`example:\n  ${c.example}`), `${c.name} --help has its example`);
      }
    }
  });

  test('a group with --help lists its subcommands; without a subcommand it is a usage error naming them', () => {
    for (const g of topWords().filter((w) => subWords(w).length)) {
      const help = parseCommandLine([g, '--help']);
      assert.equal(help.kind, 'help');
      for (const s of subWords(g)) assert.ok(help.kind === 'help' && help.text.includes(`${g} ${s}`));
      assert.match(usageError(parseCommandLine([g])), new RegExp(`"${g}" needs a subcommand: warden ${g} ${subWords(g)[0]}`));
    }
  });

  test('--version and -V anywhere print the version; help, -h and --help print the global usage', () => {
    for (const argv of [['--version'], ['-V'], ['status', '-V']]) assert.equal(parseCommandLine(argv).kind, 'version', argv.join(' '));
    for (const argv of [['help'], ['--help'], ['-h']]) assert.deepEqual(parseCommandLine(argv), { kind: 'help', text: globalUsage() });
    assert.deepEqual(parseCommandLine([]), { kind: 'no-command', text: globalUsage() });
  });

  test('an unknown command gets "did you mean" for every command word, and for every subcommand', () => {
    for (const w of topWords()) {
      const typo = w.length > 3 ? `${w.slice(0, -2)}${w.at(-1)}${w.at(-2)}` : `${w}x`; // swap the last two letters
      assert.match(usageError(parseCommandLine([typo])), new RegExp(`^unknown command "${typo}": did you mean .*"${w}"`), typo);
    }
    for (const g of topWords())
      for (const s of subWords(g))
        assert.match(usageError(parseCommandLine([g, `${s}x`])), new RegExp(`did you mean "${g} ${s}"\\?`), `${g} ${s}x`);
    assert.match(usageError(parseCommandLine(['frobnicate'])), /^unknown command "frobnicate": choose one of: run, status/);
  });

  test('an unknown option gets "did you mean" from that command\'s options', () => {
    assert.equal(usageError(parseCommandLine(['status', '--jsn'])), `Unknown option '--jsn' for "status": did you mean --json?`);
    assert.match(usageError(parseCommandLine(['task', 'add', 'x', '--promt', 'p'])), /for "task add": did you mean --prompt\?/);
    assert.match(usageError(parseCommandLine(['--confg', 'f'])), /^Unknown option '--confg': did you mean --config\?/);
  });

  test("another command's option, a missing argument and an extra one are usage errors with the usage line", () => {
    assert.equal(
      usageError(parseCommandLine(['status', '--follow'])),
      '"status" takes no --follow (its options: --json); usage: warden status [--json]',
    );
    assert.equal(usageError(parseCommandLine(['logs'])), '"logs" needs TASK; usage: warden logs TASK [--follow]');
    assert.equal(usageError(parseCommandLine(['pause', 'now'])), 'unexpected argument: now; usage: warden pause [--node N]');
    assert.match(usageError(parseCommandLine(['task', 'add'])), /"task add" needs ID; usage: warden task add ID \(--prompt TEXT/);
  });

  test('options may come before the command; a value that looks like an option needs --opt=VALUE', () => {
    const p = parseCommandLine(['--config', '/x.toml', 'status', '--json']);
    assert.deepEqual(p, { kind: 'command', name: 'status', args: [], values: { config: '/x.toml', json: true } });
    assert.match(usageError(parseCommandLine(['task', 'add', 'x', '--priority', '-5'])), /--priority=-XYZ/);
    const after = parseCommandLine(['task', 'add', '--prompt', 'p', '--', '-odd']);
    assert.equal(after.kind === 'command' && after.args[0], '-odd');
  });
});

const section = readmeSection('Command line');

test("README's usage block is `warden help`, so every command of the table is documented", () => {
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1];
  assert.equal(block, globalUsage() + '\n');
});
