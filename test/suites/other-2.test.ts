import { runSuite } from './suites.js';

await runSuite('other-2');
