// tsrun-oci behind podman (Debian's), which has no daemon: `podman --runtime bin/tsrun-oci.js run …`, with a
// private root, run root and tmp dir, the vfs driver, cgroupfs and no network. podman's conmon calls tsrun-oci as
// it calls runc. This VM withholds CAP_SYS_RESOURCE from root, and podman's default limits (nofile 1048576) need
// it, with runc as with tsrun-oci: every run here gives limits within the VM's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PODMAN = '/usr/bin/podman';
const OCI = path.resolve(import.meta.dirname, '../../bin/tsrun-oci.js');
const ready = process.getuid?.() === 0 && fs.existsSync(PODMAN) && fs.existsSync('/bin/busybox');
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
/** What podman makes outside its --root, --runroot and --tmpdir whatever it is told: removed after, if it was not there. */
const PODMAN_LEFTOVERS = ['/run/containers', '/var/lib/containers', ...fs.readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/libpod_parent`)];

function rmdirIfThere(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

describe.skipIf(!ready)('podman with tsrun-oci as its runtime (as root)', () => {
  let dir: string;
  let existed: string[];

  const podman = (args: string[]) => {
    const result = spawnSync(PODMAN, [
      '--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--tmpdir', path.join(dir, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', OCI, ...args,
    ], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const run = (...args: string[]) => podman(['run', '--network', 'none', ...LIMITS, ...args]);

  beforeAll(() => {
    existed = PODMAN_LEFTOVERS.filter((p) => fs.existsSync(p));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-podman-'));
    const rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const tool of ['sh', 'echo', 'sleep', 'tty']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', tool));
    expect(spawnSync('tar', ['-C', rootfs, '-cf', path.join(dir, 'rootfs.tar'), '.']).status).toBe(0);
    const imported = podman(['import', path.join(dir, 'rootfs.tar'), 'oci-test']);
    expect(imported.status, imported.stderr).toBe(0);
  }, 90_000);

  afterAll(() => {
    podman(['rm', '-a', '-f']);
    podman(['rmi', '-a', '-f']);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const leftover of PODMAN_LEFTOVERS.filter((p) => !existed.includes(p))) {
      if (leftover.startsWith('/sys/fs/cgroup/')) {
        // A cgroup goes with rmdir, each level alone (conmon's is below libpod_parent); some trees are links to others.
        for (const child of fs.existsSync(leftover) ? fs.readdirSync(leftover, { withFileTypes: true }).filter((e) => e.isDirectory()) : []) rmdirIfThere(path.join(leftover, child.name));
        rmdirIfThere(leftover);
      } else {
        fs.rmSync(leftover, { recursive: true, force: true });
      }
    }
  }, 90_000);

  it('podman run --rm: the output and the exit code', () => {
    expect(run('--rm', 'oci-test', 'sh', '-c', 'echo hi from podman; exit 3')).toMatchObject({ status: 3, stdout: 'hi from podman\n' });
  });

  it('podman run -d, exec, and stop', () => {
    const started = run('-d', 'oci-test', 'sleep', '60');
    expect(started.status, started.stderr).toBe(0);
    const id = started.stdout.trim();
    expect(podman(['exec', id, 'sh', '-c', 'echo in exec; exit 5'])).toMatchObject({ status: 5, stdout: 'in exec\n' });
    expect(podman(['stop', '-t', '1', id]).status).toBe(0);
    expect(podman(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout).toBe('exited 137\n');
    expect(podman(['rm', id]).status).toBe(0);
  });

  it('podman run -it: the terminal comes through conmon\'s console socket', () => {
    const command = [PODMAN, '--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--tmpdir', path.join(dir, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', OCI,
      'run', '--rm', '-it', '--network', 'none', ...LIMITS, 'oci-test', 'sh', '-c', "'tty; exit 6'"].join(' ');
    const ran = spawnSync('script', ['-eqc', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    expect(ran.status).toBe(6);
    expect(ran.stdout).toMatch(/\/dev\/pts\/0\r+\n/);
  });
});
