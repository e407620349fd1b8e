import type { WorkloadPolicy } from '../../src/engine/index.js';
import { isRecord } from '../../src/engine/index.js';

const SAFE = new Set(['Forbid', 'Replace']);
const PATH = 'spec.concurrencyPolicy';

const policy: WorkloadPolicy = {
  id: 'cronjob-concurrency',
  title: 'CronJobs do not run on top of themselves',
  why:
    'A CronJob whose concurrencyPolicy is unset defaults to Allow: when a run is slow, the next one starts beside ' +
    'it, then another, and they fight over the same rows, files or locks while piling up load. Forbid skips a ' +
    'run while the last one is still going; Replace stops the old run for the new one.',
  fix: 'spec:\n  concurrencyPolicy: Forbid   # or Replace, when only the newest run matters',
  defaultAction: 'warn',
  kinds: ['CronJob'],
  reads: [['spec', 'concurrencyPolicy']],
  target: 'workload',
  cel: {
    validations: [
      {
        expression: "object.spec.?concurrencyPolicy.orValue('') in ['Forbid', 'Replace']",
        message: 'concurrencyPolicy Allow (the default) lets runs overlap: set spec.concurrencyPolicy: Forbid or Replace',
      },
    ],
  },
  check(workload) {
    const spec = workload.object.spec;
    const value = isRecord(spec) ? spec.concurrencyPolicy : undefined;
    if (typeof value === 'string' && SAFE.has(value)) return [];
    let message: string;
    if (value === undefined) message = 'concurrencyPolicy defaults to Allow, so runs may overlap: set it to Forbid';
    else if (value === 'Allow') message = 'concurrencyPolicy Allow lets runs overlap: set it to Forbid or Replace';
    else message = 'unknown concurrencyPolicy (case matters): set spec.concurrencyPolicy: Forbid';
    return [{ path: PATH, message }];
  },
};

export default policy;
