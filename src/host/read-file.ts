// Host files (/proc, /sys, /etc) that may be absent on some machines: absent reads as null.
import { readFileSync } from 'node:fs';

export function readOrNull(path: string, encoding: BufferEncoding = 'latin1'): string | null {
  try {
    return readFileSync(path, encoding);
  } catch {
    return null;
  }
}
