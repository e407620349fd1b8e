import { runSuite } from './suites.js';

await runSuite('policies');
