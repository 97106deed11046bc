// `warden doctor`'s memory-fit line: can this config ever admit a worker on this host? A config
// whose memory_max + min_available_memory exceed what the host can ever have available passes
// every other check and still never starts a worker (src/admission/fit.ts).
import type { Config } from '../config/schema.js';
import { fitProblem } from '../config/sizing.js';
import { formatSize } from '../config/units.js';
import type { Check } from './check.js';

export function memoryFitCheck(config: Config, memTotal: number | null): Check {
  const [memoryMax, minAvailable] = [config.worker.memory_max, config.admission.min_available_memory];
  if (memTotal === null) return { id: 'memory-fit', status: 'info', summary: 'MemTotal not available: cannot judge memory_max' };
  const data = { mem_total: memTotal, memory_max: memoryMax, min_available_memory: minAvailable };
  const p = fitProblem(memTotal, memoryMax, minAvailable);
  if (p === null)
    return {
      id: 'memory-fit',
      status: 'pass',
      summary: `a worker fits: memory_max ${formatSize(memoryMax)} + min_available_memory ${formatSize(minAvailable)} within MemTotal ${formatSize(memTotal)}`,
      data,
    };
  return {
    id: 'memory-fit',
    status: 'fail',
    summary: `no worker can ever be admitted here: ${p.why}`,
    fix: `${p.fix}, then: systemctl reload warden`,
    data,
  };
}
