#!/usr/bin/env node
// The installed entry point: the compiled CLI in dist/.
import '../dist/cli/main.js';
