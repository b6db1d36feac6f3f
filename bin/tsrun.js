#!/usr/bin/env node
// The installed entry point. The CLI is bundled by esbuild into dist/bundle/ (scripts/bundle.mjs),
// because reading a few files starts much faster than resolving a hundred modules, and each bundle
// is compiled with the code cache the build made for it (src/cli/load-bundle.ts).
// This file is CommonJS, like the bundles (bin/package.json says so): Node starts a CommonJS
// program a few milliseconds sooner than an ES module.
const path = require('node:path');
const { loadBundle } = require('../dist/bundle/load-bundle.cjs');

loadBundle(path.join(__dirname, '..', 'dist', 'bundle', 'tsrun.cjs')).main();
