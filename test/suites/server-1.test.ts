import { runSuite } from './suites.js';

await runSuite('server-1');
