// `tsrun lab registry start|stop|status`, as root: a real docker-registry on a
// loopback port, seeded with images tsrun builds and pushes itself; pulled
// from and run, including the image whose layers delete and hide files.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsrun } from '../helpers/cli.js';
import { freePort } from '../helpers/registry.js';
import { tempDir } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun lab registry (as root)', () => {
  let work: string;
  let root: string;
  let address: string;
  const cli = (...args: string[]) => tsrun(root, args);
  const registryPid = () => JSON.parse(fs.readFileSync(path.join(root, 'run', 'classroom-registry.json'), 'utf8')).pid as number;

  beforeAll(async () => {
    work = tempDir('classroom');
    root = path.join(work, 'store');
    address = `127.0.0.1:${await freePort()}`;
  });
  afterAll(() => {
    cli('lab', 'registry', 'stop'); // also when a test failed half-way
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('starts a registry on loopback and seeds it with the demo images', () => {
    const started = cli('lab', 'registry', 'start', '--port', address.split(':')[1]!);
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(started.stdout).toContain(`Started the classroom registry at ${address}`);
    const pid = registryPid();
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('docker-registry');

    const status = cli('lab', 'registry', 'status');
    expect(status.status).toBe(0);
    expect(status.stdout.split('\n').slice(1)).toEqual([
      `  ${address}/busybox:latest`,
      `  ${address}/library/busybox:latest`,
      `  ${address}/tsrun-demo:latest`,
      `  ${address}/tsrun-layers:latest`,
      '',
    ]);
    // A second start finds it running and leaves it be.
    expect(cli('lab', 'registry', 'start').stdout).toContain(`already running at ${address} (pid ${pid})`);
  });

  it('serves images that tsrun run pulls for real, deletions and opaque directories included', () => {
    const run = cli('run', '--rm', '--network', 'none', `${address}/tsrun-layers`, 'sh', '-c', 'cat /etc/motd; ls /srv/notes /srv/scratch');
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`Unable to find image '${address}/tsrun-layers:latest' locally`);
    expect(run.stderr).toContain('Pull complete');
    expect(run.stdout).toBe([
      'version 2, from layer 3: the upper copy hides the lower one',
      '/srv/notes:', 'welcome.txt', '',
      '/srv/scratch:', 'fresh.txt', '',
    ].join('\n'));
    const busybox = cli('run', '--rm', '--network', 'none', `${address}/busybox`, 'echo', 'hello from the registry');
    expect(busybox).toMatchObject({ status: 0, stdout: 'hello from the registry\n' });
    // As a mirror of Docker Hub, it answers for plain `busybox`, and Docker Hub is never asked.
    fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify({ 'registry-mirrors': [`http://${address}`] }));
    const mirrored = cli('pull', 'busybox');
    expect(mirrored).toMatchObject({ status: 0, stderr: '' });
    expect(mirrored.stdout).toContain('Status: Downloaded newer image for busybox:latest');
  });

  it('refuses a port another registry holds, leaving nothing running', () => {
    const otherRoot = path.join(work, 'other');
    const clash = tsrun(otherRoot, ['lab', 'registry', 'start', '--port', address.split(':')[1]!]);
    expect(clash.status).toBe(125);
    expect(clash.stderr).toContain(`${address} is in use by another program`);
    expect(clash.stderr).toContain('choose another port with --port');
    expect(fs.existsSync(path.join(otherRoot, 'run', 'classroom-registry.json'))).toBe(false);
    expect(tsrun(otherRoot, ['lab', 'registry', 'status']).status).toBe(1);
  });

  it('stops it, and says so in status', () => {
    const pid = registryPid();
    expect(cli('lab', 'registry', 'stop')).toMatchObject({ status: 0, stdout: `Stopped the classroom registry at ${address}.\n` });
    expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('docker-registry')).toBe(false);
    const status = cli('lab', 'registry', 'status');
    expect(status.status).toBe(1);
    expect(status.stdout).toContain('is not running');
  });
});
