// `tsrun system check [--repair]`, as root, on real stores: the demo image loaded, then damaged (a layer blob
// with a flipped byte, its unpacked layer gone, a staging directory a killed pull left); the check reports
// each and exits 1, --repair removes what cannot be trusted, the next check says the image must come again,
// and a new load or pull mends it. A running container is never touched, nor a run directory with a mount on it.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { demoLayout, tempDir } from '../helpers/images.js';
import { listImages } from '../../src/store/images.js';
import { blobPath, containerRunDir, layerDir, storePaths, tmpDir } from '../../src/store/paths.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun system check (as root)', () => {
  const roots: string[] = [];
  let registry: TestRegistry;
  let layout: string;

  beforeAll(async () => {
    layout = await demoLayout(tempDir('check-image'));
    registry = await startRegistry();
    registry.push(layout, 'latest', 'demo:latest');
  });
  afterAll(async () => {
    await registry?.stop();
    fs.rmSync(layout, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
  });

  async function demoStore(): Promise<{ root: string; check: (...flags: string[]) => ReturnType<typeof tsrun> }> {
    const root = await storeWithDemoImage('check');
    roots.push(root);
    return { root, check: (...flags) => tsrun(root, ['system', 'check', ...flags]) };
  }

  it('reports a damaged blob, a missing layer and a staging leftover; --repair removes what it can; a load mends the rest', async () => {
    const { root, check } = await demoStore();
    expect(check()).toMatchObject({ status: 0, stdout: 'store OK: 1 images, 1 layers, 3 blobs, 0 containers\n', stderr: '' });

    const paths = storePaths(root);
    const [image] = listImages(paths);
    const { digest, diffId } = image!.layers[0]!;
    const blob = blobPath(paths, digest);
    const bytes = fs.readFileSync(blob);
    bytes[bytes.length >> 1] ^= 0x01;
    fs.chmodSync(blob, 0o644);
    fs.writeFileSync(blob, bytes);
    fs.rmSync(layerDir(paths, diffId), { recursive: true });
    // What a pull SIGKILLed half-way leaves: its maker (a pid no process has) is gone.
    const leftover = path.join(tmpDir(paths), 'pull-999999999.1-AbC123');
    fs.mkdirSync(path.join(leftover, 'blobs'), { recursive: true });
    fs.writeFileSync(path.join(leftover, 'blobs', 'incoming-0'), 'half a layer');

    const checked = check();
    expect(checked.status).toBe(1);
    expect(checked.stderr).toBe('');
    expect(checked.stdout.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^blob ${digest} does not match its digest: its bytes hash to sha256:[a-f0-9]{64}; needed by tsrun-demo:latest — \`tsrun system check --repair\` removes it; then pull or load tsrun-demo:latest again$`)),
      `image tsrun-demo:latest: its layer ${diffId} is missing (${layerDir(paths, diffId)}) — pull or load tsrun-demo:latest again`,
      `${leftover} was left by an interrupted pull, load, commit or save — \`tsrun system check --repair\` removes it`,
      '',
    ]);

    const repaired = check('--repair');
    expect(repaired.status).toBe(1);
    expect(repaired.stdout.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^repaired: blob ${digest} does not match its digest: .*; needed by tsrun-demo:latest$`)),
      `repaired: ${leftover} was left by an interrupted pull, load, commit or save`,
      `image tsrun-demo:latest: its layer blob ${digest} is missing — pull or load tsrun-demo:latest again`,
      `image tsrun-demo:latest: its layer ${diffId} is missing (${layerDir(paths, diffId)}) — pull or load tsrun-demo:latest again`,
      '',
    ]);
    expect(fs.existsSync(blob)).toBe(false);
    expect(fs.existsSync(leftover)).toBe(false);

    const again = check();
    expect(again.status).toBe(1);
    expect(again.stdout).toBe(repaired.stdout.split('\n').slice(2).join('\n'));

    expect(tsrun(root, ['load', '-i', path.join(root, 'demo-image')]).status).toBe(0);
    expect(check()).toMatchObject({ status: 0, stdout: 'store OK: 1 images, 1 layers, 3 blobs, 0 containers\n' });
    expect(tsrun(root, ['run', '--rm', '--network', 'none', 'tsrun-demo', 'echo', 'whole again']).stdout).toBe('whole again\n');
  });

  it('a pull fetches again a layer blob --repair removed, though its layer is still unpacked', async () => {
    const root = tempDir('check-pull');
    roots.push(root);
    const paths = storePaths(root);
    const reference = `${registry.host}/demo`;
    expect(tsrun(root, ['pull', '-q', reference]).status).toBe(0);
    const blob = blobPath(paths, listImages(paths)[0]!.layers[0]!.digest);
    fs.chmodSync(blob, 0o644);
    fs.appendFileSync(blob, 'trailing garbage');
    expect(tsrun(root, ['system', 'check', '--repair']).status).toBe(1);
    expect(fs.existsSync(blob)).toBe(false);

    const pulled = tsrun(root, ['pull', '-q', reference]);
    expect(pulled.stderr).toBe('');
    expect(pulled.status).toBe(0);
    expect(tsrun(root, ['system', 'check'])).toMatchObject({ status: 0, stdout: 'store OK: 1 images, 1 layers, 3 blobs, 0 containers\n' });
  });

  it('leaves a running container be, and a dangling run directory with a mount on it', async () => {
    const { root, check } = await demoStore();
    const paths = storePaths(root);
    const started = tsrun(root, ['run', '-d', '--network', 'none', 'tsrun-demo', 'sh', '-c', 'echo work > /work; sleep 60']);
    expect(started.status).toBe(0);
    const id = started.stdout.trim();
    const ok = 'store OK: 1 images, 1 layers, 3 blobs, 1 containers\n';
    expect(check()).toMatchObject({ status: 0, stdout: ok });
    expect(check('--repair')).toMatchObject({ status: 0, stdout: ok });
    expect(tsrun(root, ['exec', id, 'cat', '/work']).stdout).toBe('work\n');
    const ghost = containerRunDir(paths, '0'.repeat(64));
    fs.mkdirSync(path.join(ghost, 'rootfs'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', path.join(ghost, 'rootfs')]);
    try {
      fs.writeFileSync(path.join(ghost, 'rootfs', 'precious'), 'not to be removed');
      const expected = `${ghost} belongs to no container, but ${path.join(ghost, 'rootfs')} is mounted — unmount it (umount ${path.join(ghost, 'rootfs')}), then check again\n`;
      expect(check()).toMatchObject({ status: 1, stdout: expected });
      expect(check('--repair')).toMatchObject({ status: 1, stdout: expected });
      expect(fs.readFileSync(path.join(ghost, 'rootfs', 'precious'), 'utf8')).toBe('not to be removed');
      expect(tsrun(root, ['inspect', '-f', '{{.State.Status}}', id]).stdout).toBe('running\n');
    } finally {
      execFileSync('umount', [path.join(ghost, 'rootfs')]);
      tsrun(root, ['rm', '-f', id]);
    }
    expect(check('--repair').stdout).toBe(`repaired: ${ghost} is the run directory of container 000000000000, which no longer exists\nstore OK: 1 images, 1 layers, 3 blobs, 0 containers\n`);
  });
});
