// Which thermal zone is the CPU's, and how its temperature text is read.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findCpuThermalZone, parseMillidegrees } from '../../../src/hardware/thermal.ts';
import { tempRoot } from '../../helpers/tmp.ts';

const tmp = tempRoot('thermal-test');

/** A fake /sys with the given zones, in order: [type, temp] (type null: no readable type file). */
function sysWith(zones: [string | null, string][]): string {
  const sys = tmp.fresh('sys');
  zones.forEach(([type, temp], i) => {
    const z = join(sys, 'class', 'thermal', `thermal_zone${i}`);
    mkdirSync(z, { recursive: true });
    if (type !== null) writeFileSync(join(z, 'type'), `${type}\n`);
    writeFileSync(join(z, 'temp'), `${temp}\n`);
  });
  return sys;
}

describe('findCpuThermalZone', () => {
  test("a Raspberry Pi's cpu-thermal zone is found", () => {
    const sys = sysWith([['cpu-thermal', '48000']]);
    assert.deepEqual(findCpuThermalZone(sys), { path: join(sys, 'class/thermal/thermal_zone0/temp'), type: 'cpu-thermal' });
  });

  test('on x86 the package zone wins over acpitz and the wifi, whatever their order', () => {
    const sys = sysWith([
      ['acpitz', '27800'],
      ['iwlwifi_1', '40000'],
      ['x86_pkg_temp', '55000'],
    ]);
    assert.equal(findCpuThermalZone(sys)?.type, 'x86_pkg_temp');
  });

  test('a better type wins over an earlier zone that only mentions cpu', () => {
    const sys = sysWith([
      ['cpu0-gpu', '40000'],
      ['soc_thermal', '50000'],
    ]);
    assert.equal(findCpuThermalZone(sys)?.type, 'soc_thermal');
  });

  test('zones that are not the CPU are never taken', () => {
    assert.equal(
      findCpuThermalZone(
        sysWith([
          ['acpitz', '27800'],
          ['battery', '30000'],
        ]),
      ),
      null,
    );
  });

  test('a zone without a readable type is skipped, not fatal', () => {
    assert.equal(
      findCpuThermalZone(
        sysWith([
          [null, '1'],
          ['cpu-thermal', '2'],
        ]),
      )?.type,
      'cpu-thermal',
    );
  });

  test('no /sys/class/thermal at all (a VM, a container) is null', () => {
    assert.equal(findCpuThermalZone(tmp.fresh('empty')), null);
  });
});

describe('parseMillidegrees', () => {
  test('millidegrees become degrees Celsius', () => {
    assert.equal(parseMillidegrees('48312\n'), 48.312);
  });
  test('a negative reading is kept', () => {
    assert.equal(parseMillidegrees('-5000'), -5);
  });
  test('empty or non-numeric text is null, never 0', () => {
    assert.equal(parseMillidegrees(''), null);
    assert.equal(parseMillidegrees('  \n'), null);
    assert.equal(parseMillidegrees('hot'), null);
  });
});
