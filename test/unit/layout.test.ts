// test/unit is a map of src: a reader finds a module's unit test at test/unit/<its path>.test.ts.
// Every src module either has that file or a row in ELSEWHERE saying why not and where it is tested
// instead; a unit test file either mirrors a module or is a row in CROSS_CUTTING. The tables only
// shrink: a row for a module that has gained its mirrored file, or no longer exists, fails here,
// and so does a row that names a test file that does not exist.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filesUnder } from '../helpers/paths.ts';

/** src modules without a mirrored unit test file: why, and where they are tested instead. */
const ELSEWHERE: Record<string, string> = {
  'cli/logs.ts': '`warden logs` on real attempt logs: test/integration/logs.test.ts',
  'cli/main.ts': 'the CLI entry point: every test that runs the built CLI (test/helpers/cli.ts), e.g. test/unit/cli/completion.test.ts',
  'cli/reload.ts': '`warden reload` against a running daemon: test/integration/control.test.ts and test/integration/small-pi.test.ts',
  'cli/run.ts': 'the daemon entry point: test/integration/lifecycle.test.ts and every integration test',
  'cli/task-commands.ts': 'the per-task commands against a daemon and without one: test/integration/task-commands.test.ts',
  'cli/view-parts.ts': 'pieces of two views, tested through them: test/unit/cli/status.test.ts and test/unit/cli/top-frame.test.ts',
  'config/suggest.ts':
    '`warden config suggest` and the fit check of `config check` through the real CLI on fixture hosts: test/unit/doctor/memory-fit.test.ts',
  'control/server.ts': 'the control socket and HTTP port of a running daemon: test/integration/control.test.ts',
  'doctor/cli.ts': '`warden doctor` through the real CLI: test/unit/doctor/doctor.test.ts and test/unit/doctor/pi-readiness.test.ts',
  'doctor/commands.ts': 'finding programs on the service PATH, through `warden doctor`: test/unit/doctor/doctor.test.ts',
  'doctor/host-files.ts': 'reads the fixture host trees the readiness tests judge: test/unit/doctor/pi-readiness.test.ts',
  'executors/systemd-scope.ts': 'needs systemd as PID 1: test/systemd/scope.test.ts',
  'executors/systemd-unit.ts':
    'needs systemd as PID 1: test/systemd/scope.test.ts, test/systemd/service.test.ts and test/systemd/sandbox.test.ts',
  'executors/types.ts': 'types only, and SpawnError: test/unit/executors/worker-stdio.test.ts',
  'fleet/connect.ts': 'needs etcd: test/integration/fleet*.test.ts',
  'fleet/node.ts': 'needs etcd: test/integration/fleet*.test.ts and test/systemd/fleet-sigstop.test.ts',
  'fleet/shared-pauses.ts': 'needs etcd (its decisions are fleet/shared-merge.ts): test/integration/fleet-pauses.test.ts',
  'fleet/shared-tasks.ts': 'needs etcd (its decisions are fleet/task-merge.ts): test/integration/fleet-tasks.test.ts',
  'host/execa.ts':
    'the lazy import of execa: test/unit/imports.test.ts, and every git and gh call (test/unit/worktree/git-worktree.test.ts)',
  'state/types.ts': 'the state schema and emptyState: test/unit/state/store.test.ts (every state round-trips)',
  'supervisor/config-reload.ts': 'a reload inside the daemon: test/integration/control.test.ts and test/integration/small-pi.test.ts',
  'supervisor/durability.ts': 'a full disk at start and at shutdown: test/faults/full-disk.test.ts',
  'supervisor/event-sink.ts':
    'events to the journal, metrics and alerts: test/unit/supervisor/supervisor.test.ts and test/integration/alerts.test.ts',
  'supervisor/host-watch.ts': 'disk and the pressure watch between ticks: test/integration/hardware.test.ts',
  'supervisor/intake.ts':
    'the local queue and the GitHub poll: test/unit/supervisor/supervisor.test.ts and test/integration/github.test.ts',
  'supervisor/observers.ts': 'usage and history for status: test/integration/history.test.ts and test/systemd/usage.test.ts',
  'supervisor/ports.ts': "the Supervisor's dependencies (interfaces): test/unit/supervisor/supervisor.test.ts builds them",
  'supervisor/recovery.ts': 'adoption of running workers after a restart: test/integration/recovery.test.ts',
  'supervisor/task-commands.ts': "the daemon's side of the per-task commands: test/integration/task-commands.test.ts",
  'supervisor/workers.ts':
    'the live workers and their timers: test/unit/supervisor/supervisor.test.ts and test/integration/lifecycle.test.ts',
  'tasks/github-source.ts': 'the GitHub poll on its schedule, with a fake gh: test/integration/github.test.ts',
  'worktree/workspace.ts':
    'worktrees and completion (BLOCKED.md, pull requests), with a real git and a fake gh: test/integration/github.test.ts',
};

/** test/unit files that mirror no one module, and what they check. */
const CROSS_CUTTING: Record<string, string> = {
  'imports.test.ts': 'the import graph of all of src: no cycle, no effect reached from a pure module',
  'install-script.test.ts': 'install.sh (shell, not TypeScript) and the bundle',
  'layout.test.ts': 'this map',
};

const modules = filesUnder('src', '.ts');
const unitTests = filesUnder('test/unit', '.test.ts');
const mirrorOf = (module: string) => module.replace(/\.ts$/, '.test.ts');

test('every src module has test/unit/<same path>.test.ts or a row in ELSEWHERE', (t) => {
  const mirrored = modules.filter((m) => unitTests.includes(mirrorOf(m)));
  const missing = modules.filter((m) => !unitTests.includes(mirrorOf(m)) && !(m in ELSEWHERE));
  assert.deepEqual(missing, [], 'write test/unit/<path>.test.ts for these, or say in ELSEWHERE where they are tested');
  t.diagnostic(`modules ${modules.length}, mirrored ${mirrored.length}, declared elsewhere ${Object.keys(ELSEWHERE).length}`);
  assert.equal(mirrored.length + Object.keys(ELSEWHERE).length, modules.length);
});

test('every ELSEWHERE row is a module that exists and has no mirrored file, with a reason and a test file that exists', () => {
  const gone = Object.keys(ELSEWHERE).filter((m) => !modules.includes(m));
  assert.deepEqual(gone, [], 'these modules no longer exist: remove their rows');
  const nowMirrored = Object.keys(ELSEWHERE).filter((m) => unitTests.includes(mirrorOf(m)));
  assert.deepEqual(nowMirrored, [], 'these modules have their mirrored test file now: remove their rows');
  const tests = [...filesUnder('test', '.test.ts').map((f) => `test/${f}`), 'test/helpers/cli.ts'];
  for (const [m, why] of Object.entries(ELSEWHERE)) {
    const named = [...why.matchAll(/test\/[\w/.*-]+\.(?:test\.)?ts/g)].map((x) => x[0]);
    assert.ok(named.length > 0, `${m}: the row names no test file: ${why}`);
    for (const path of named) {
      const pattern = new RegExp(`^${path.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`);
      assert.ok(
        tests.some((f) => pattern.test(f)),
        `${m}: ${path} does not exist`,
      );
    }
  }
});

test('every test/unit file mirrors a src module or is a row in CROSS_CUTTING', () => {
  const orphans = unitTests.filter((f) => !modules.includes(f.replace(/\.test\.ts$/, '.ts')) && !(f in CROSS_CUTTING));
  assert.deepEqual(orphans, [], 'move these tests to the file of the module they test, or declare them in CROSS_CUTTING');
  const stale = Object.keys(CROSS_CUTTING).filter((f) => !unitTests.includes(f) || modules.includes(f.replace(/\.test\.ts$/, '.ts')));
  assert.deepEqual(stale, [], 'these CROSS_CUTTING rows name no file, or a file that mirrors a module now');
});
