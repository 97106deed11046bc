// Disk health: free space and free inodes on the state and worktree filesystems, the problems they
// make and the disk pause those problems set and lift.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diskProblems, type DiskLimits, type DiskUsage } from '../../../src/admission/disk.ts';
import { applyDiskHealth } from '../../../src/policy/pauses.ts';
import { planTick } from '../../../src/policy/tick.ts';
import { activePauseReasons } from '../../../src/state/pause-reasons.ts';
import { DEFAULT_SETTINGS as S } from '../../helpers/settings.ts';
import { oneTask } from '../../helpers/tasks.ts';

describe('disk health', () => {
  const limits: DiskLimits = { minFree: 256 * 2 ** 20, minFreeKey: 'worktree.min_free_disk', minFreeInodes: 10_000 };
  const usage = (over: Partial<DiskUsage>): DiskUsage => ({
    role: 'worktrees',
    path: '/srv/trees',
    freeBytes: 8 * 2 ** 30,
    freeInodes: 500_000,
    ...over,
  });

  test('low inodes pause with reason disk, with gigabytes still free; enough again resumes', () => {
    const problems = diskProblems([{ usage: usage({ freeInodes: 9_999 }), limits }]);
    assert.deepEqual(problems, ['9999 inodes free on /srv/trees (worktrees), under admission.min_free_inodes 10000']);
    const paused = applyDiskHealth(oneTask(), problems, 5);
    assert.deepEqual(activePauseReasons(paused.state), ['disk']);
    assert.deepEqual(
      paused.events.map((e) => e.type),
      ['disk_paused'],
    );
    assert.equal(planTick(paused.state, 6, null, S).spawns.length, 0);
    const resumed = applyDiskHealth(paused.state, diskProblems([{ usage: usage({}), limits }]), 7);
    assert.deepEqual(
      resumed.events.map((e) => e.type),
      ['disk_resumed'],
    );
  });

  test('low space on the state_dir filesystem pauses too; a filesystem that does not count inodes is not judged on them', () => {
    const problems = diskProblems([
      {
        usage: usage({ role: 'state_dir', path: '/var/lib/warden', freeBytes: 100 * 2 ** 20 }),
        limits: { ...limits, minFreeKey: 'the state_dir minimum' },
      },
      { usage: usage({ freeInodes: null }), limits },
    ]);
    assert.deepEqual(problems, ['100M free on /var/lib/warden (state_dir), under the state_dir minimum 256M']);
  });
});
