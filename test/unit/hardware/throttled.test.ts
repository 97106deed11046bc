// The Raspberry Pi firmware's throttled word: each documented bit, and the text it comes as.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeThrottled, describeThrottled, parseThrottled, THROTTLED_BITS } from '../../../src/hardware/throttled.ts';

describe('the throttled word', () => {
  // every documented bit: Linux be3035e3627d (bits 0-2, 16-18) and the Raspberry Pi
  // documentation for vcgencmd get_throttled (bits 3 and 19)
  const documented: [number, string][] = [
    [0, 'under-voltage now'],
    [1, 'arm frequency capped now'],
    [2, 'throttled now'],
    [3, 'soft temperature limit now'],
    [16, 'under-voltage since boot'],
    [17, 'arm frequency capped since boot'],
    [18, 'throttled since boot'],
    [19, 'soft temperature limit since boot'],
  ];
  test('each documented bit decodes to its own flag and nothing else', () => {
    assert.deepEqual(
      Object.values(THROTTLED_BITS).sort((a, b) => a - b),
      documented.map(([b]) => b),
    );
    for (const [b, words] of documented) assert.deepEqual(describeThrottled(decodeThrottled(2 ** b)), [words], `bit ${b}`);
    assert.deepEqual(describeThrottled(decodeThrottled(0)), []);
    assert.equal(describeThrottled(decodeThrottled(0xf000f)).length, 8);
  });
  test('parses the sysfs text and vcgencmd output; anything else is null', () => {
    assert.equal(parseThrottled('50005\n'), 0x50005);
    assert.equal(parseThrottled('0\n'), 0);
    assert.equal(parseThrottled('throttled=0x50000\n'), 0x50000);
    assert.equal(parseThrottled(''), null);
    assert.equal(parseThrottled('VCHI initialization failed'), null);
  });
});
