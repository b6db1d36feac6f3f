// `tsrun system prune`, as root: stopped containers, unused user networks and
// dangling images go; a running container, its image and its network stay;
// without -f, nothing happens unless the answer is yes.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { demoLayout, editLayout } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('tsrun system prune (as root)', () => {
  let root: string;
  const run = (...args: string[]) => tsrun(root, args);

  beforeAll(async () => {
    root = await storeWithDemoImage('prune');
  });
  afterAll(() => {
    run('rm', '-f', ...run('ps', '-aq').stdout.split('\n').filter(Boolean));
    for (const network of ['kept-net', 'unused-net']) run('network', 'rm', network);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('removes what nothing uses, keeps what a running container needs, and asks first without -f', async () => {
    expect(run('run', '--name', 'stopped', 'tsrun-demo', 'true').status).toBe(0);
    // A newer tsrun-demo takes the name: the old image is dangling once the stopped container is gone.
    const newer = path.join(root, 'newer-image');
    await demoLayout(newer);
    editLayout(newer, ({ config }) => { config.config = { ...config.config, Env: ['NEWER=1'] }; });
    const oldId = run('inspect', '-f', '{{.Id}}', 'tsrun-demo').stdout.trim();
    expect(run('load', '-i', newer).status).toBe(0);
    expect(run('network', 'create', 'unused-net').status).toBe(0);
    expect(run('network', 'create', 'kept-net').status).toBe(0);
    const runner = spawn(process.execPath, [TSRUN, 'run', '--rm', '-i', '--name', 'running', '--network', 'kept-net', 'tsrun-demo', 'sh', '-c', 'echo up; read x'], { env: { ...process.env, TSRUN_ROOT: root } });
    try {
      await new Promise<void>((resolve, reject) => {
        runner.stdout.once('data', () => resolve());
        runner.once('exit', () => reject(new Error('the running container ended early')));
      });
      const declined = tsrun(root, ['system', 'prune'], { input: 'n\n' });
      expect(declined).toMatchObject({ status: 0, stdout: '' });
      expect(declined.stderr).toContain('Are you sure you want to continue? [y/N]');
      expect(run('ps', '-a').stdout).toContain('stopped');

      const pruned = tsrun(root, ['system', 'prune'], { input: 'y\n' });
      expect(pruned.status).toBe(0);
      expect(pruned.stdout).toContain('Deleted Containers:\n');
      expect(pruned.stdout).toContain('Deleted Networks:\nunused-net\n');
      expect(pruned.stdout).toContain(`deleted: ${oldId}`);
      expect(run('ps', '-aq').stdout.trim().split('\n')).toHaveLength(1);
      expect(run('network', 'ls').stdout).toContain('kept-net');
      expect(run('images', '-q').stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      runner.stdin.end();
      await new Promise((resolve) => runner.once('exit', resolve));
    }
    const idle = run('system', 'prune', '-f');
    expect(idle.stdout).toContain('Deleted Networks:\nkept-net\n');
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/tsrun-/);
  });
});
