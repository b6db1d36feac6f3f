// A throw-away store under the system's temp dir, for tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StorePaths } from '../../src/store/paths.js';

export function tempStore(): StorePaths & { remove(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-test-'));
  return { root, runRoot: path.join(root, 'run'), remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
