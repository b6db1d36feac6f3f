#!/usr/bin/env node
// tsrun's OCI runtime: runc's command line (src/oci/main.ts), for containerd, dockerd and podman to exec.
// Loaded like bin/tsrun.js, from its bundle in dist/bundle/.
const path = require('node:path');
const { loadBundle } = require('../dist/bundle/load-bundle.cjs');

loadBundle(path.join(__dirname, '..', 'dist', 'bundle', 'tsrun-oci.cjs')).main();
