#!/usr/bin/env node
// Thin launcher so the published bin works without a build step in the path.
import '../dist/src/cli/main.js';
