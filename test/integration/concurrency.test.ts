// Many tsruns at once, for real (as root): a classroom starts its containers at the same minute. Twenty
// runs on the default bridge each get a name and an address of their own; five pulls of one image into
// one store all succeed, with one copy of each blob and nothing half-made left in the store.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { demoLayout, tempDir } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

/** tsrun started in the background; resolves with what it printed once it has exited. */
function inBackground(root: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TSRUN, ...args], { env: { ...process.env, TSRUN_ROOT: root, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe.skipIf(!asRoot)('tsrun at once (as root)', () => {
  let root: string;
  let registry: TestRegistry;
  let images: string;

  beforeAll(async () => {
    root = await storeWithDemoImage('concurrency');
    images = tempDir('concurrency-images');
    registry = await startRegistry();
    registry.push(await demoLayout(path.join(images, 'demo')), 'latest', 'demo:latest');
  });
  afterAll(async () => {
    tsrun(root, ['rm', '-f', ...tsrun(root, ['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    tsrun(root, ['network', 'prune']);
    await registry?.stop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(images, { recursive: true, force: true });
  });

  it('gives 20 runs started at once 20 names and 20 addresses', async () => {
    // Each holds its address until all twenty have said theirs: an address freed and taken again is no duplicate.
    const runs = await Promise.all(Array.from({ length: 20 }, () => inBackground(root, [
      'run', '--rm', 'tsrun-demo', 'sh', '-c', 'echo $(hostname) $(ip -4 -o addr show eth0 | awk \'{print $4}\'); sleep 4',
    ])));
    expect(runs.map((r) => r.status), runs.map((r) => r.stderr).join('')).toEqual(Array(20).fill(0));
    const said = runs.map((r) => r.stdout.trim().split(' '));
    expect(new Set(said.map(([hostname]) => hostname)).size).toBe(20);
    expect(said.every(([, address]) => /^10\.88\.\d+\.\d+\/16$/.test(address!))).toBe(true);
    expect(new Set(said.map(([, address]) => address)).size).toBe(20);
  }, 120_000);

  it('gives 20 detached containers created at once 20 distinct generated names', async () => {
    const started = await Promise.all(Array.from({ length: 20 }, () => inBackground(root, ['run', '-d', '--network', 'none', 'tsrun-demo', 'sleep', '30'])));
    expect(started.map((r) => r.status), started.map((r) => r.stderr).join('')).toEqual(Array(20).fill(0));
    const names = tsrun(root, ['ps', '--format', '{{.Names}}']).stdout.trim().split('\n');
    expect(names).toHaveLength(20);
    expect(new Set(names).size).toBe(20);
    const removed = tsrun(root, ['rm', '-f', ...started.map((r) => r.stdout.trim())]);
    expect(removed.status, removed.stderr).toBe(0);
  }, 120_000);

  it('pulls one image five times at once into one store: all succeed, each blob once, nothing half-made', async () => {
    const store = path.join(tempDir('concurrency-pull'), 'store');
    try {
      const pulls = await Promise.all(Array.from({ length: 5 }, () => inBackground(store, ['pull', '-q', `${registry.host}/demo`])));
      expect(pulls.map((p) => p.status), pulls.map((p) => p.stderr).join('')).toEqual(Array(5).fill(0));
      expect(tsrun(store, ['images', '-q']).stdout.trim().split('\n')).toHaveLength(1);
      const blobs = filesUnder(path.join(store, 'blobs'));
      expect(blobs.every((file) => /^sha256\/[a-f0-9]{64}$/.test(file)), blobs.join('\n')).toBe(true);
      expect(filesUnder(path.join(store, 'tmp'))).toEqual([]); // no staging or half-written file left
      expect(filesUnder(store).filter((file) => file.includes('.tmp-'))).toEqual([]);
      expect(tsrun(store, ['run', '--rm', '--network', 'none', `${registry.host}/demo`, 'true']).status).toBe(0);
    } finally {
      fs.rmSync(path.dirname(store), { recursive: true, force: true });
    }
  }, 120_000);
});
