// The Raspberry Pi firmware's "throttled" word: what `vcgencmd get_throttled` prints, and what Pi
// kernels expose as the sysfs file THROTTLED_SYSFS_PATH. The low 16 bits are live, the high 16
// are sticky since boot.
//
// Sources (checked, not guessed):
// - raspberrypi/linux drivers/firmware/raspberrypi.c: `get_throttled` is a DEVICE_ATTR_RO of the
//   firmware platform device (soc:firmware), printed with "%x\n" (hex, no 0x prefix). It returns
//   the value the firmware last reported, refreshed whenever something asks the firmware (the
//   raspberrypi-hwmon driver polls it), so reading the file does not call the firmware. The first
//   read logs a one-time "deprecated, use hwmon sysfs instead" kernel warning; the hwmon driver
//   only exposes under-voltage, so the file is still the one source of every bit.
// - Linux commit be3035e3627d "ARM: bcm2835: Add GET_THROTTLED firmware property" (Stefan Wahren,
//   2018): lower 16 bits live, upper 16 sticky; bits 0 under-voltage, 1 arm frequency capped,
//   2 currently throttled, 16/17/18 the same "has occurred".
// - Raspberry Pi documentation, computers/os.html#get_throttled (vcgencmd): adds bit 3 "soft
//   temperature limit active" and bit 19 "soft temperature limit has occurred".

export const THROTTLED_SYSFS_PATH = 'devices/platform/soc/soc:firmware/get_throttled';

export const THROTTLED_BITS = {
  underVoltage: 0,
  frequencyCapped: 1,
  throttled: 2,
  softTempLimit: 3,
  underVoltageOccurred: 16,
  frequencyCappedOccurred: 17,
  throttledOccurred: 18,
  softTempLimitOccurred: 19,
} as const;

export interface ThrottledFlags {
  raw: number;
  /** Conditions true right now (bits 0-3). */
  now: { underVoltage: boolean; frequencyCapped: boolean; throttled: boolean; softTempLimit: boolean };
  /** Conditions that occurred since boot (bits 16-19, sticky). */
  sinceBoot: { underVoltage: boolean; frequencyCapped: boolean; throttled: boolean; softTempLimit: boolean };
}

const bit = (raw: number, n: number) => ((raw >>> n) & 1) === 1;

export function decodeThrottled(raw: number): ThrottledFlags {
  const b = THROTTLED_BITS;
  return {
    raw,
    now: {
      underVoltage: bit(raw, b.underVoltage),
      frequencyCapped: bit(raw, b.frequencyCapped),
      throttled: bit(raw, b.throttled),
      softTempLimit: bit(raw, b.softTempLimit),
    },
    sinceBoot: {
      underVoltage: bit(raw, b.underVoltageOccurred),
      frequencyCapped: bit(raw, b.frequencyCappedOccurred),
      throttled: bit(raw, b.throttledOccurred),
      softTempLimit: bit(raw, b.softTempLimitOccurred),
    },
  };
}

/**
 * Parses the sysfs text ("50005\n", hex without a prefix) or vcgencmd's "throttled=0x50005".
 * Returns null for anything else.
 */
export function parseThrottled(text: string): number | null {
  const t = text.trim().replace(/^throttled=/, '');
  const m = /^(?:0x)?([0-9a-fA-F]{1,8})$/.exec(t);
  return m ? parseInt(m[1]!, 16) : null;
}

/** Short words for the set flags, e.g. ["under-voltage now", "throttled since boot"]; empty when none. */
export function describeThrottled(f: ThrottledFlags): string[] {
  const out: string[] = [];
  const names: [keyof ThrottledFlags['now'], string][] = [
    ['underVoltage', 'under-voltage'],
    ['frequencyCapped', 'arm frequency capped'],
    ['throttled', 'throttled'],
    ['softTempLimit', 'soft temperature limit'],
  ];
  for (const [k, name] of names) if (f.now[k]) out.push(`${name} now`);
  for (const [k, name] of names) if (f.sinceBoot[k]) out.push(`${name} since boot`);
  return out;
}
