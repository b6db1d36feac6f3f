// tsrun-oci behind containerd, the runtime Kubernetes' nodes use: Debian's containerd started here on a private
// socket, root and state (its CRI plugin off), and `ctr run --runc-binary bin/tsrun-oci.js`, which makes the
// io.containerd.runc.v2 shim call tsrun-oci where it would call runc. The image is busybox, made into an OCI
// archive with umoci; the native snapshotter keeps the host's mount table out of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, hostSnapshot } from '../helpers/cli.js';

const CONTAINERD = '/usr/bin/containerd';
const CTR = '/usr/bin/ctr';
const OCI = path.resolve(import.meta.dirname, '../../bin/tsrun-oci.js');
const IMAGE = 'docker.io/library/oci-test:latest';
const ready = process.getuid?.() === 0 && [CONTAINERD, CTR, '/bin/busybox', '/usr/bin/umoci'].every((file) => fs.existsSync(file));

describe.skipIf(!ready)('containerd with tsrun-oci as its runc (as root)', () => {
  let dir: string;
  let containerd: ChildProcess;
  let before: ReturnType<typeof hostSnapshot>;

  const ctr = (args: string[]) => {
    const result = spawnSync(CTR, ['--address', path.join(dir, 'containerd.sock'), '-n', 'tsrun-test', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const run = (...args: string[]) => ctr(['run', '--snapshotter', 'native', '--runc-binary', OCI, ...args]);

  beforeAll(async () => {
    before = hostSnapshot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-containerd-'));
    fs.writeFileSync(path.join(dir, 'config.toml'), [
      'version = 2',
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${path.join(dir, 'containerd.sock')}"`,
      '[ttrpc]',
      `  address = "${path.join(dir, 'containerd.sock.ttrpc')}"`,
    ].join('\n') + '\n');
    containerd = spawn(CONTAINERD, ['--config', path.join(dir, 'config.toml'), '--root', path.join(dir, 'root'), '--state', path.join(dir, 'state')], {
      stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'containerd.log'), 'w')],
    });
    await eventually(() => ctr(['version']).status === 0, 30_000);
    const rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const tool of ['sh', 'echo', 'sleep', 'tty']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', tool));
    const layout = path.join(dir, 'layout');
    const steps = [
      ['tar', '-C', rootfs, '-cf', path.join(dir, 'rootfs.tar'), '.'],
      ['umoci', 'init', '--layout', layout],
      ['umoci', 'new', '--image', `${layout}:latest`],
      ['umoci', 'raw', 'add-layer', '--image', `${layout}:latest`, path.join(dir, 'rootfs.tar')],
      ['tar', '-C', layout, '-cf', path.join(dir, 'image.tar'), '.'],
    ];
    for (const [command, ...args] of steps) expect(spawnSync(command!, args, { encoding: 'utf8' }).status, `${command} ${args.join(' ')}`).toBe(0);
    expect(ctr(['image', 'import', '--snapshotter', 'native', '--base-name', IMAGE.replace(/:latest$/, ''), path.join(dir, 'image.tar')]).status).toBe(0);
  }, 90_000);

  afterAll(async () => {
    if (containerd) {
      for (const task of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'kill', '-s', 'SIGKILL', task]);
      await sleep(500);
      for (const task of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'delete', '--force', task]);
      for (const container of ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['container', 'delete', container]);
      containerd.kill('SIGTERM');
      await eventually(() => containerd.exitCode !== null || containerd.signalCode !== null, 30_000);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    for (const c of ['memory', 'pids', 'freezer', 'devices', 'cpu,cpuacct', 'cpuset', 'blkio', 'net_cls,net_prio', 'perf_event', 'hugetlb']) {
      fs.rmSync(`/sys/fs/cgroup/${c}/tsrun-test`, { recursive: false, force: true });
    }
    await eventually(() => JSON.stringify(hostSnapshot()) === JSON.stringify(before), 10_000);
  }, 90_000);

  it('ctr run --rm: the output and the exit code', () => {
    expect(run('--rm', IMAGE, 'c1', 'sh', '-c', 'echo hi from containerd; exit 3')).toEqual({ status: 3, stdout: 'hi from containerd\n', stderr: '' });
  });

  it('a task with a terminal', () => {
    const ran = spawnSync('script', ['-eqc', `${CTR} --address ${path.join(dir, 'containerd.sock')} -n tsrun-test run --snapshotter native --runc-binary ${OCI} --rm -t ${IMAGE} c2 sh -c 'tty; exit 4'`, '/dev/null'], {
      encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
    });
    expect(ran.status).toBe(4);
    // ctr leaves its own terminal cooked: the container's CR LF comes out as CR CR LF.
    expect(ran.stdout).toMatch(/\/dev\/pts\/0\r+\n/);
  });

  it('a detached task, ctr task exec, and ctr task kill', async () => {
    expect(run('-d', IMAGE, 'c3', 'sleep', '60').status).toBe(0);
    expect(ctr(['task', 'ls']).stdout).toMatch(/c3\s+\d+\s+RUNNING/);
    expect(ctr(['task', 'exec', '--exec-id', 'e1', 'c3', 'sh', '-c', 'echo in exec; exit 7'])).toMatchObject({ status: 7, stdout: 'in exec\n' });
    expect(ctr(['task', 'kill', '-s', 'SIGKILL', 'c3']).status).toBe(0);
    await eventually(() => /c3\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout), 10_000);
    expect(ctr(['task', 'delete', 'c3']).status).toBe(0);
    expect(ctr(['container', 'delete', 'c3']).status).toBe(0);
  });
});
