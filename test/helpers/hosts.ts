// MemTotal of real boards, as the kernel reports it (below the RAM on the box: the firmware and
// the kernel keep some), for the small-Pi tests (sizing, "can never admit", doctor).
import { KiB } from './units.ts';

export const MEM_TOTAL = {
  '1G': 944268 * KiB, // Raspberry Pi 3 Model B+ (test/fixtures/hosts/pi3-1gb-bookworm)
  '2G': 1891592 * KiB, // Raspberry Pi 4 Model B 2GB (test/fixtures/hosts/pi4-2gb-bookworm)
  '4G': 3930860 * KiB, // Raspberry Pi 4 Model B 4GB (test/fixtures/hosts/pi4-buster-stock)
  '8G': 8245520 * KiB, // Raspberry Pi 5 8GB (test/fixtures/hosts/pi5-bookworm-fixed)
} as const;
