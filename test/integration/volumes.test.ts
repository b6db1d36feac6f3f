// Volumes and mounts, as root: bind mounts (read-only too), a named volume that
// starts with the image's files and is shared by two containers, anonymous
// volumes that go with --rm, tmpfs, --read-only, and a mount path through a
// symlink refused so nothing is created outside the container's root.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { tempDir } from '../helpers/images.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('volumes and mounts (as root)', () => {
  let root: string;
  let host: string;
  const run = (...args: string[]) => tsrun(root, args);
  const inContainer = (flags: string[], script: string) => run('run', '--rm', '--pull', 'never', '--network', 'none', ...flags, 'tsrun-demo', 'sh', '-c', script);

  beforeAll(async () => {
    root = await storeWithDemoImage('volumes');
    host = tempDir('volumes-host');
    fs.writeFileSync(path.join(host, 'from-host'), 'hello from the host\n');
  });
  afterAll(() => {
    run('rm', '-f', ...run('ps', '-aq').stdout.split('\n').filter(Boolean));
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(host, { recursive: true, force: true });
  });

  it('bind-mounts a host directory, writable or read-only', () => {
    const rw = inContainer(['-v', `${host}:/mnt`], 'cat /mnt/from-host && echo written > /mnt/from-container');
    expect(rw).toEqual({ status: 0, stdout: 'hello from the host\n', stderr: '' });
    expect(fs.readFileSync(path.join(host, 'from-container'), 'utf8')).toBe('written\n');
    const ro = inContainer(['--mount', `type=bind,source=${host},target=/mnt,readonly`], 'touch /mnt/nope 2>&1 || true');
    expect(ro.stdout).toBe('touch: /mnt/nope: Read-only file system\n');
    const missing = inContainer(['--mount', `type=bind,source=${host}/missing,target=/mnt`], 'true');
    expect(missing).toMatchObject({ status: 125, stderr: expect.stringContaining(`bind source path does not exist: ${host}/missing`) });
  });

  it('starts a named volume with the image\'s files, shares it between containers, and keeps it after rm', async () => {
    // The first container holds the volume open while the second writes to it.
    const first = spawn(process.execPath, [TSRUN, 'run', '--rm', '-i', '--pull', 'never', '--network', 'none', '-v', 'shared:/home', 'tsrun-demo', 'sh', '-c', 'ls /home; read x; cat /home/note'],
      { env: { ...process.env, TSRUN_ROOT: root } });
    let output = '';
    first.stdout.on('data', (chunk) => { output += chunk; });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the first container printed nothing')), 20_000);
        first.stdout.once('data', () => { clearTimeout(timer); resolve(); });
      });
      expect(output).toBe('student\n'); // the image's /home/student, copied into the new volume
      expect(inContainer(['-v', 'shared:/home'], 'echo written by the second > /home/note')).toMatchObject({ status: 0 });
    } finally {
      first.stdin.end('\n');
      await exited;
    }
    expect(output).toBe('student\nwritten by the second\n');
    expect(run('volume', 'ls', '-q').stdout).toContain('shared\n');

    expect(run('run', '--name', 'holder', '--pull', 'never', '--network', 'none', '-v', 'shared:/home', 'tsrun-demo', 'true').status).toBe(0);
    expect(run('volume', 'rm', 'shared')).toMatchObject({ status: 125, stderr: expect.stringContaining('remove shared: volume is in use') });
    expect(run('rm', 'holder').status).toBe(0);
    expect(inContainer(['-v', 'shared:/home'], 'cat /home/note').stdout).toBe('written by the second\n');
    const inspected = JSON.parse(run('volume', 'inspect', 'shared').stdout)[0];
    expect(fs.readFileSync(path.join(inspected.Mountpoint, 'note'), 'utf8')).toBe('written by the second\n');
    expect(run('volume', 'rm', 'shared')).toEqual({ status: 0, stdout: 'shared\n', stderr: '' });
  });

  it('removes anonymous volumes with --rm, keeps them with a plain rm until rm -v', () => {
    const before = run('volume', 'ls', '-q').stdout;
    expect(inContainer(['-v', '/anonymous'], 'touch /anonymous/x').status).toBe(0);
    expect(run('volume', 'ls', '-q').stdout).toBe(before);
    expect(run('run', '--name', 'anon', '--pull', 'never', '--network', 'none', '-v', '/anonymous', 'tsrun-demo', 'true').status).toBe(0);
    const mounts = JSON.parse(run('inspect', '-f', '{{json .Mounts}}', 'anon').stdout);
    expect(mounts).toMatchObject([{ Type: 'volume', Destination: '/anonymous', RW: true }]);
    expect(run('rm', '-v', 'anon').status).toBe(0);
    expect(run('volume', 'ls', '-q').stdout).toBe(before);
  });

  it('mounts a tmpfs, and makes the root read-only with --read-only', () => {
    const result = inContainer(['--tmpfs', '/scratch:size=1m', '--read-only'], 'grep " /scratch " /proc/mounts | cut -d" " -f3; echo x > /scratch/ok && cat /scratch/ok; touch /nope 2>&1 || true');
    expect(result.stdout).toBe('tmpfs\nx\ntouch: /nope: Read-only file system\n');
  });

  it('mounts a tmpfs noexec unless its flag says exec', () => {
    const script = 'cp /bin/busybox /t/echo && /t/echo ran; echo "exit $?"'; // busybox runs the applet it is named after
    const locked = inContainer(['--tmpfs', '/t'], script);
    expect(locked).toMatchObject({ status: 0, stdout: 'exit 126\n', stderr: expect.stringContaining('/t/echo: Permission denied') });
    expect(inContainer(['--tmpfs', '/t:exec'], script)).toEqual({ status: 0, stdout: 'ran\nexit 0\n', stderr: '' });
  });

  it('refuses a mount path that goes through a symlink in the image, creating nothing on the host', () => {
    expect(run('run', '--name', 'linker', '--pull', 'never', '--network', 'none', 'tsrun-demo', 'ln', '-s', '/etc', '/data').status).toBe(0);
    expect(run('commit', 'linker', 'linked:v1').status).toBe(0);
    const refused = run('run', '--rm', '--pull', 'never', '--network', 'none', '-v', 'escape:/data/tsrun-escape', 'linked:v1', 'true');
    expect(refused).toMatchObject({ status: 125, stderr: expect.stringContaining('cannot mount on /data/tsrun-escape: /data is a symbolic link in the container') });
    expect(fs.existsSync('/etc/tsrun-escape')).toBe(false);
    expect(run('volume', 'ls', '-q').stdout).not.toContain('escape'); // refused before the volume was made
  });

  it('makes a fresh store 0700 when `volume create` is the first command', () => {
    const parent = tempDir('volume-first');
    try {
      const store = path.join(parent, 'store');
      expect(tsrun(store, ['volume', 'create', 'first'])).toMatchObject({ status: 0, stdout: 'first\n' });
      expect(fs.statSync(store).mode & 0o777).toBe(0o700);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
