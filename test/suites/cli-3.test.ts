import { runSuite } from './suites.js';

await runSuite('cli-3');
