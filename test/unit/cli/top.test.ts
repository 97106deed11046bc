// `warden top` outside its frame: whether to colour (the frame itself is top-frame.test.ts, and
// the real terminal in tmux is test/integration).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorWanted } from '../../../src/cli/top.ts';

test('NO_COLOR (set, not empty) or not a terminal: no colour', () => {
  assert.equal(colorWanted({}, true), true);
  assert.equal(colorWanted({ NO_COLOR: '1' }, true), false);
  assert.equal(colorWanted({ NO_COLOR: '' }, true), true);
  assert.equal(colorWanted({}, false), false);
});
