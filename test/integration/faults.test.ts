// The fault matrix, for real (as root): tsrun is killed with SIGKILL at each point of src/faults.ts, the way a
// closed laptop or an OOM kills it, with nothing to catch. After each, the next ordinary command must leave the
// host as it was (test/host-check.ts compares mounts, processes, links, cgroups and DNAT rules around every
// test), the store must hold nothing half-made and pass `tsrun system check`, and a new run must work.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULT_POINTS } from '../../src/faults.js';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { demoLayout, tempDir } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

/** tsrun with TSRUN_FAULT set: how it ended. */
function killedAt(root: string, point: string, args: string[]) {
  return spawnSync(process.execPath, [TSRUN, ...args], { env: { ...process.env, TSRUN_ROOT: root, TSRUN_FAULT: point }, encoding: 'utf8', timeout: 60_000 });
}

/** Files under `dir` whose name says they were being written, or that sit in its staging area. */
function halfMade(root: string): string[] {
  const tmp = path.join(root, 'tmp');
  const staging = fs.existsSync(tmp) ? fs.readdirSync(tmp).map((name) => `tmp/${name}`) : [];
  const partial = fs.readdirSync(root, { recursive: true }).map(String).filter((file) => file.includes('.tmp-'));
  return [...staging, ...partial];
}

describe.skipIf(!asRoot)('the fault matrix (as root)', () => {
  let root: string;
  let registry: TestRegistry;
  let images: string;

  beforeAll(async () => {
    root = await storeWithDemoImage('faults');
    images = tempDir('faults-images');
    registry = await startRegistry();
    registry.push(await demoLayout(path.join(images, 'demo')), 'latest', 'demo:latest');
  });
  afterAll(async () => {
    tsrun(root, ['rm', '-f', ...tsrun(root, ['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    await registry?.stop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(images, { recursive: true, force: true });
  });

  for (const point of FAULT_POINTS.filter((p) => p.startsWith('pull-'))) {
    it(`killed at ${point}: the next pull finishes the job, and leaves nothing half-made`, () => {
      const store = path.join(tempDir(`faults-${point}`), 'store');
      try {
        const killed = killedAt(store, point, ['pull', '-q', `${registry.host}/demo`]);
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        expect(tsrun(store, ['images', '-q']).stdout).toBe(''); // nothing stored of the interrupted pull
        const again = tsrun(store, ['pull', '-q', `${registry.host}/demo`]);
        expect(again.status, again.stderr).toBe(0);
        expect(halfMade(store)).toEqual([]);
        expect(tsrun(store, ['system', 'check'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^store OK/) });
        expect(tsrun(store, ['run', '--rm', '--network', 'none', `${registry.host}/demo`, 'true']).status).toBe(0);
      } finally {
        fs.rmSync(path.dirname(store), { recursive: true, force: true });
      }
    });
  }

  for (const point of FAULT_POINTS.filter((p) => !p.startsWith('pull-'))) {
    it(`killed at ${point}: the next command releases what the run held, --rm included`, () => {
      // On the default bridge with a published port: an address, a veth pair, a netns file and a DNAT rule to leave.
      const killed = killedAt(root, point, ['run', '--rm', '-p', '127.0.0.1::80', 'tsrun-demo', 'sleep', '5']);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const listed = tsrun(root, ['ps', '-a', '-q']); // reconciles
      if (point === 'create') {
        // Made, never started: it stays, as Docker keeps a created container (its --rm applies once it has run).
        expect(tsrun(root, ['ps', '-a', '--format', '{{.Status}}']).stdout).toBe('Created\n');
        expect(tsrun(root, ['rm', listed.stdout.trim()]).status).toBe(0);
      } else {
        expect(listed).toMatchObject({ status: 0, stdout: '' });
      }
      expect(halfMade(root)).toEqual([]);
      expect(tsrun(root, ['system', 'check'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^store OK/) });
      expect(tsrun(root, ['run', '--rm', 'tsrun-demo', 'true']).status).toBe(0);
    });
  }

  it('frees the name a killed --rm run held, for the next run that asks for it', () => {
    expect(killedAt(root, 'network', ['run', '--rm', '--name', 'held', 'tsrun-demo', 'true']).signal).toBe('SIGKILL');
    expect(tsrun(root, ['run', '--rm', '--name', 'held', '--network', 'none', 'tsrun-demo', 'echo', 'again'])).toMatchObject({ status: 0, stdout: 'again\n' });
  });
});
