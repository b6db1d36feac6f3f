#!/usr/bin/env node
// The installed entry point: the CLI, bundled by esbuild into dist/bundle/ (see
// package.json's build:ts) because loading one file starts much faster than
// resolving a hundred modules.
import '../dist/bundle/main.js';
