#!/usr/bin/env node
// tsrun's OCI runtime: runc's command line (src/oci/main.ts), for containerd, dockerd and podman to exec.
// Loaded like bin/tsrun.js, from its bundle in dist/bundle/.
const path = require('node:path');
const { loadBundle } = require('../dist/bundle/load-bundle.cjs');

// Once the command is done, leave: after create, a thread still watches the container, which is its caller's now,
// and would keep Node running as long as the container lives.
loadBundle(path.join(__dirname, '..', 'dist', 'bundle', 'tsrun-oci.cjs')).main().then(() => process.exit());
