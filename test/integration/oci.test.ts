// tsrun-oci as its callers use it, as root: bundles made here (busybox as the root filesystem, a config.json
// from `tsrun-oci spec`), the commands run one process each, as containerd's shim runs them, and the state
// machine checked across them. Every test leaves the host as it found it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, hostSnapshot } from '../helpers/cli.js';
import type { OciSpec } from '../../src/oci/spec.js';

const OCI = path.resolve(import.meta.dirname, '../../bin/tsrun-oci.js');
const BUSYBOX = '/bin/busybox';
const ready = process.getuid?.() === 0 && fs.existsSync(BUSYBOX);
const CGROUP_PARENT = 'tsrun-oci-test';

let dir: string;
let root: string;
let bundle: string;

let calls = 0;

/** One command, as a shim runs it. The container inherits its stdio, as from runc: files, not pipes, or this wait for
 *  the command would last as long as the container. */
function oci(args: string[], options: { timeout?: number } = {}) {
  const out = path.join(dir, `out-${++calls}`);
  const err = path.join(dir, `err-${calls}`);
  const [outFd, errFd] = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
  try {
    const result = spawnSync(process.execPath, [OCI, '--root', root, '--log', path.join(dir, 'log.json'), '--log-format', 'json', ...args], {
      stdio: ['ignore', outFd, errFd], timeout: options.timeout ?? 30_000, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1' },
    });
    return { status: result.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8'), out };
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
}

/** A bundle whose config.json is `tsrun-oci spec`'s, changed by `change`. */
function writeBundle(id: string, change: (spec: OciSpec) => void = () => {}): string {
  const at = path.join(dir, id);
  fs.mkdirSync(path.join(at, 'rootfs', 'bin'), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(at, 'rootfs', 'bin', 'busybox'));
  fs.chmodSync(path.join(at, 'rootfs', 'bin', 'busybox'), 0o755);
  for (const tool of ['sh', 'echo', 'cat', 'sleep', 'id', 'ls', 'hostname', 'touch', 'grep', 'cut']) fs.symlinkSync('busybox', path.join(at, 'rootfs', 'bin', tool));
  expect(spawnSync(process.execPath, [OCI, 'spec', '--bundle', at], { encoding: 'utf8' }).status).toBe(0);
  const spec = JSON.parse(fs.readFileSync(path.join(at, 'config.json'), 'utf8')) as OciSpec;
  spec.linux!.cgroupsPath = `/${CGROUP_PARENT}/${id}`;
  change(spec);
  fs.writeFileSync(path.join(at, 'config.json'), JSON.stringify(spec, null, 2));
  return at;
}

const command = (...args: string[]) => (spec: OciSpec) => { spec.process!.args = args; };
const state = (id: string) => JSON.parse(oci(['state', id]).stdout) as { ociVersion: string; id: string; status: string; pid: number; bundle: string; annotations: object };

/** Every tree's cgroup of a container of these tests, still there. */
const leftCgroups = () => ['memory', 'pids', 'freezer', 'devices'].filter((c) => fs.existsSync(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`))
  .flatMap((c) => fs.readdirSync(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `${c}/${e.name}`));

describe.skipIf(!ready)('tsrun-oci (as root)', () => {
  let before: ReturnType<typeof hostSnapshot>;

  beforeEach(() => {
    before = hostSnapshot();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-'));
    root = path.join(dir, 'state');
  });

  afterEach(async () => {
    // Whatever a failed test left: every container of ours goes, by force.
    for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) oci(['delete', '--force', id]);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const c of ['memory', 'pids', 'freezer', 'devices', 'cpu,cpuacct', 'cpuset', 'blkio']) fs.rmSync(`/sys/fs/cgroup/${c}/${CGROUP_PARENT}`, { recursive: false, force: true });
    await eventually(() => JSON.stringify(hostSnapshot()) === JSON.stringify(before));
    expect(leftCgroups()).toEqual([]);
  });

  it('runs a bundle in the foreground: its output, its exit code, and nothing of it left', () => {
    bundle = writeBundle('r1', (spec) => {
      spec.process!.args = ['sh', '-c', 'echo hello from $(hostname).$(cat /proc/sys/kernel/domainname); exit 3'];
      spec.domainname = 'example.lab';
    });
    const ran = spawnSync(process.execPath, [OCI, '--root', root, 'run', '--bundle', bundle, 'r1'], { encoding: 'utf8', timeout: 30_000 });
    expect(ran).toMatchObject({ status: 3, stdout: 'hello from tsrun.example.lab\n', stderr: '' });
    expect(fs.readdirSync(root)).toEqual([]);
    expect(leftCgroups()).toEqual([]);
  });

  it('create leaves the process waiting before the program; start lets it run; kill and delete end it', async () => {
    bundle = writeBundle('c1', (spec) => {
      spec.process!.args = ['sh', '-c', 'touch /tmp/ran; echo started; exec sleep 60'];
      spec.root.readonly = false;
    });
    fs.mkdirSync(path.join(bundle, 'rootfs/tmp'));
    const pidFile = path.join(dir, 'c1.pid');
    const created = oci(['create', '--bundle', bundle, '--pid-file', pidFile, 'c1']);
    expect(created).toMatchObject({ status: 0, stdout: '', stderr: '' });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(state('c1')).toMatchObject({ ociVersion: '1.0.2', id: 'c1', status: 'created', pid, bundle, annotations: {} });
    // Waiting in tsrun-exec, after every step: its root is the bundle's already, and the program has not run.
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:tsrun-exec/);
    expect(fs.existsSync(path.join(bundle, 'rootfs/tmp/ran'))).toBe(false);
    expect(fs.readlinkSync(`/proc/${pid}/root`)).toBe('/');
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/c1/cgroup.procs`, 'utf8').trim()).toBe(String(pid));

    expect(oci(['start', 'c1'])).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(state('c1')).toMatchObject({ status: 'running', pid });
    await eventually(() => fs.existsSync(path.join(bundle, 'rootfs/tmp/ran')));
    // Its output goes where create's went: the stdio the shim gave create.
    expect(fs.readFileSync(created.out, 'utf8')).toBe('started\n');
    expect(oci(['start', 'c1'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: cannot start an already running container\n' });
    expect(oci(['delete', 'c1'])).toMatchObject({ status: 1, stderr: expect.stringContaining('cannot delete container c1 that is not stopped: running') });

    expect(oci(['kill', 'c1', 'KILL'])).toMatchObject({ status: 0 });
    await eventually(() => state('c1').status === 'stopped');
    expect(state('c1').pid).toBe(0);
    expect(oci(['kill', 'c1'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: container not running\n' });
    expect(oci(['start', 'c1'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: cannot start a container that has stopped\n' });
    expect(oci(['delete', 'c1'])).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(oci(['state', 'c1'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: container c1 does not exist\n' });
    // What the shim reads back: the last error, as JSON lines.
    const logged = fs.readFileSync(path.join(dir, 'log.json'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(logged.at(-1)).toMatchObject({ level: 'error', msg: 'container c1 does not exist' });
  });

  it('kill reaches a created container too, which is then stopped, and a user given capabilities keeps them', async () => {
    bundle = writeBundle('k1', (spec) => {
      spec.process!.args = ['sleep', '60'];
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.process!.capabilities = { bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] };
    });
    expect(oci(['create', '--bundle', bundle, 'k1']).status).toBe(0);
    const pid = state('k1').pid;
    expect(oci(['start', 'k1']).status).toBe(0);
    // uid 1000, with CAP_NET_BIND_SERVICE (bit 10) effective and ambient: kept through the switch away from root.
    await eventually(() => fs.readFileSync(`/proc/${pid}/status`, 'utf8').includes('CapAmb:\t0000000000000400'));
    expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/Uid:\t1000\t[\s\S]*CapEff:\t0000000000000400/);
    expect(oci(['delete', '--force', 'k1']).status).toBe(0);

    bundle = writeBundle('k2', command('sleep', '60'));
    expect(oci(['create', '--bundle', bundle, 'k2']).status).toBe(0);
    expect(oci(['kill', 'k2', '9'])).toMatchObject({ status: 0 });
    await eventually(() => state('k2').status === 'stopped');
    expect(oci(['start', 'k2'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: cannot start a container that has stopped\n' });
    expect(oci(['delete', 'k2'])).toMatchObject({ status: 0 });
  });

  it('delete removes a created container at once, and --force a running one', async () => {
    bundle = writeBundle('d1', command('sleep', '60'));
    expect(oci(['create', '--bundle', bundle, 'd1']).status).toBe(0);
    expect(oci(['delete', 'd1'])).toMatchObject({ status: 0 });
    expect(oci(['create', '--bundle', bundle, 'd1']).status).toBe(0);
    expect(oci(['start', 'd1']).status).toBe(0);
    expect(oci(['delete', '--force', 'd1'])).toMatchObject({ status: 0, stderr: '' });
    expect(fs.existsSync(path.join(root, 'd1'))).toBe(false);
    expect(oci(['delete', '--force', 'd1'])).toMatchObject({ status: 0 }); // gone already: nothing to do, as runc
  });

  it('tells a missing command at create, as runc does, and leaves nothing', () => {
    bundle = writeBundle('m1', command('no-such-command'));
    const created = oci(['create', '--bundle', bundle, 'm1']);
    expect(created.status).toBe(1);
    expect(created.stderr).toContain('exec: "no-such-command": executable file not found in $PATH');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('update changes the limits of a running container, and events --stats reads its counters', () => {
    bundle = writeBundle('s1', command('sleep', '60'));
    expect(oci(['create', '--bundle', bundle, 's1']).status).toBe(0);
    expect(oci(['start', 's1']).status).toBe(0);
    const resources = path.join(dir, 'resources.json');
    fs.writeFileSync(resources, JSON.stringify({ memory: { limit: 64 << 20 }, pids: { limit: 50 } }));
    expect(oci(['update', '--resources', resources, 's1'])).toMatchObject({ status: 0, stderr: '' });
    expect(fs.readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/s1/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 << 20));
    expect(fs.readFileSync(`/sys/fs/cgroup/pids/${CGROUP_PARENT}/s1/pids.max`, 'utf8').trim()).toBe('50');
    const stats = JSON.parse(oci(['events', '--stats', 's1']).stdout) as { type: string; data: { pids: { current: number }; memory: { usage: { usage: number; limit: number } } } };
    expect(stats).toMatchObject({ type: 'stats', data: { pids: { current: 1 }, memory: { usage: { limit: 64 << 20 } } } });
    expect(stats.data.memory.usage.usage).toBeGreaterThan(0);
    fs.writeFileSync(resources, JSON.stringify({ memory: { reservation: 1 } }));
    expect(oci(['update', '--resources', resources, 's1'])).toMatchObject({ status: 1, stderr: expect.stringContaining('linux.resources.memory.reservation') });
  });

  it('runs the hooks with the state on their standard input: prestart at create, poststart at start, poststop at delete', async () => {
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat > ${path.join(dir, name)}.json`] });
    bundle = writeBundle('h1', (spec) => {
      spec.process!.args = ['sleep', '60'];
      spec.hooks = { prestart: [hook('prestart')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
      spec.annotations = { 'org.example.lab': 'hooks' };
    });
    expect(oci(['create', '--bundle', bundle, 'h1']).status).toBe(0);
    const pid = state('h1').pid;
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'prestart.json'), 'utf8'))).toEqual({ ociVersion: '1.0.2', id: 'h1', status: 'created', pid, bundle, annotations: { 'org.example.lab': 'hooks' } });
    expect(fs.existsSync(path.join(dir, 'poststart.json'))).toBe(false);
    expect(oci(['start', 'h1']).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststart.json'), 'utf8'))).toMatchObject({ status: 'running', pid });
    expect(oci(['delete', '--force', 'h1']).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'poststop.json'), 'utf8'))).toMatchObject({ status: 'stopped', id: 'h1' });
  });

  it('a failing prestart hook fails the create, and the container goes', () => {
    bundle = writeBundle('h2', (spec) => {
      spec.process!.args = ['sleep', '60'];
      spec.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no network for you >&2; exit 2'] }] };
    });
    const created = oci(['create', '--bundle', bundle, 'h2']);
    expect(created).toMatchObject({ status: 1, stderr: expect.stringContaining('prestart hook /bin/sh: exit status 2: no network for you') });
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('runs createContainer hooks in the container\'s namespaces before pivot_root, and startContainer hooks in the container after start', async () => {
    bundle = writeBundle('h3', (spec) => {
      spec.process!.args = ['sh', '-c', 'touch /ran; exec sleep 60'];
      spec.root.readonly = false;
      spec.annotations = { 'org.example.lab': 'hooks' };
      spec.hooks = {
        // A host program, from the container's root, in its mount namespace, with the host's files still in reach.
        createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/create.json; pwd > ${dir}/create.cwd; readlink /proc/self/ns/mnt > ${dir}/create.ns; echo $GREETING > ${dir}/create.env`], env: ['GREETING=hello'] }],
        // The container's own sh, writing at the container's "/": after pivot_root and the confinement, before the program.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /start.json; test -e /ran || echo first > /start.order; grep NoNewPrivs /proc/self/status > /start.nnp'], timeout: 10 }],
      };
    });
    expect(oci(['create', '--bundle', bundle, 'h3'])).toMatchObject({ status: 0, stderr: '' });
    const pid = state('h3').pid;
    // The pid as the container sees it: getpid() in the hook's parent, as runc gives it.
    const expected = { ociVersion: '1.0.2', id: 'h3', pid: 1, bundle, annotations: { 'org.example.lab': 'hooks' } };
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'create.json'), 'utf8'))).toEqual({ ...expected, status: 'creating' });
    expect(fs.readFileSync(path.join(dir, 'create.cwd'), 'utf8')).toBe(`${bundle}/rootfs\n`);
    expect(fs.readFileSync(path.join(dir, 'create.ns'), 'utf8').trim()).toBe(fs.readlinkSync(`/proc/${pid}/ns/mnt`));
    expect(fs.readFileSync(path.join(dir, 'create.env'), 'utf8')).toBe('hello\n');
    expect(fs.existsSync(path.join(bundle, 'rootfs/start.json'))).toBe(false);
    expect(oci(['start', 'h3'])).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(fs.readFileSync(path.join(bundle, 'rootfs/start.json'), 'utf8'))).toEqual({ ...expected, status: 'created' });
    expect(fs.readFileSync(path.join(bundle, 'rootfs/start.order'), 'utf8')).toBe('first\n');
    expect(fs.readFileSync(path.join(bundle, 'rootfs/start.nnp'), 'utf8')).toBe('NoNewPrivs:\t1\n');
    await eventually(() => fs.existsSync(path.join(bundle, 'rootfs/ran')));
    expect(oci(['delete', '--force', 'h3']).status).toBe(0);
  });

  it('a createContainer hook that fails or outlives its timeout fails the create, and the container goes', () => {
    bundle = writeBundle('h4', (spec) => {
      spec.process!.args = ['sleep', '60'];
      spec.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no gpu for you >&2; exit 3'] }] };
    });
    expect(oci(['create', '--bundle', bundle, 'h4'])).toMatchObject({ status: 1, stderr: expect.stringContaining('no gpu for you\ntsrun-oci: createContainer hook /bin/sh: exit status 3') });
    const logged = fs.readFileSync(path.join(dir, 'log.json'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(logged.at(-1)).toMatchObject({ level: 'error', msg: 'createContainer hook /bin/sh: exit status 3' });
    expect(fs.readdirSync(root)).toEqual([]);

    bundle = writeBundle('h5', (spec) => {
      spec.process!.args = ['sleep', '60'];
      spec.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    });
    const began = Date.now();
    expect(oci(['create', '--bundle', bundle, 'h5'])).toMatchObject({ status: 1, stderr: expect.stringContaining('createContainer hook /bin/sleep: timed out after 1 s') });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a startContainer hook that fails or outlives its timeout fails the start, and the program never runs', async () => {
    const failing = (id: string, hook: { path: string; args: string[]; timeout?: number }) => writeBundle(id, (spec) => {
      spec.process!.args = ['sh', '-c', 'touch /ran; exec sleep 60'];
      spec.root.readonly = false;
      spec.hooks = { startContainer: [hook] };
    });
    bundle = failing('h6', { path: '/bin/sh', args: ['sh', '-c', 'exit 4'] });
    expect(oci(['create', '--bundle', bundle, 'h6']).status).toBe(0);
    expect(oci(['start', 'h6'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: startContainer hook /bin/sh: exit status 4\n' });
    await eventually(() => state('h6').status === 'stopped');
    expect(fs.existsSync(path.join(bundle, 'rootfs/ran'))).toBe(false);
    expect(oci(['delete', 'h6']).status).toBe(0);

    bundle = failing('h7', { path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 });
    expect(oci(['create', '--bundle', bundle, 'h7']).status).toBe(0);
    expect(oci(['start', 'h7'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: startContainer hook /bin/sleep: timed out after 1 s\n' });
    await eventually(() => state('h7').status === 'stopped');
    expect(fs.existsSync(path.join(bundle, 'rootfs/ran'))).toBe(false);
  });

  it('start tells a process that died while waiting from a program that ran and ended at once', async () => {
    bundle = writeBundle('w1', command('true'));
    fs.symlinkSync('busybox', path.join(bundle, 'rootfs/bin/true'));
    expect(oci(['create', '--bundle', bundle, 'w1']).status).toBe(0);
    expect(oci(['start', 'w1'])).toMatchObject({ status: 0, stderr: '' });

    bundle = writeBundle('w2', command('true'));
    fs.symlinkSync('busybox', path.join(bundle, 'rootfs/bin/true'));
    expect(oci(['create', '--bundle', bundle, 'w2']).status).toBe(0);
    const pid = state('w2').pid;
    // Stopped in its open of the FIFO, then killed while start waits on it: its end closes without a word.
    process.kill(pid, 'SIGSTOP');
    const starting = spawn(process.execPath, [OCI, '--root', root, 'start', 'w2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    starting.stderr!.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const exited = new Promise((resolve) => starting.on('exit', resolve));
    await sleep(300);
    process.kill(pid, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr).toBe('tsrun-oci: container w2\'s process ended before it started\n');
  });

  it('start tells a program that could no longer be executed when it was let go', async () => {
    bundle = writeBundle('g1', command('/bin/gone'));
    fs.symlinkSync('busybox', path.join(bundle, 'rootfs/bin/gone'));
    expect(oci(['create', '--bundle', bundle, 'g1']).status).toBe(0);
    fs.unlinkSync(path.join(bundle, 'rootfs/bin/gone'));
    expect(oci(['start', 'g1'])).toMatchObject({ status: 1, stderr: 'tsrun-oci: the container\'s program could not be executed: ENOENT\n' });
    await eventually(() => state('g1').status === 'stopped');
  });

  it('joins a network namespace by path, as a pod\'s containers share one', () => {
    const netns = `tsrun-oci-test-${process.pid}`;
    expect(spawnSync('ip', ['netns', 'add', netns]).status).toBe(0);
    try {
      expect(spawnSync('ip', ['-n', netns, 'link', 'add', 'podlink0', 'type', 'veth', 'peer', 'name', 'podlink1']).status).toBe(0);
      bundle = writeBundle('n1', (spec) => {
        spec.process!.args = ['cat', '/proc/net/dev'];
        spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: `/run/netns/${netns}` } : ns));
      });
      const ran = spawnSync(process.execPath, [OCI, '--root', root, 'run', '--bundle', bundle, 'n1'], { encoding: 'utf8', timeout: 30_000 });
      expect(ran.status).toBe(0);
      expect(ran.stdout).toContain('podlink0');
    } finally {
      spawnSync('ip', ['netns', 'delete', netns]);
    }
  });

  it('gives the process what config.json says: its user and groups, capabilities, limits, environment and directory', () => {
    bundle = writeBundle('u1', (spec) => {
      spec.process!.args = ['sh', '-c', 'id -u; id -g; id -G; grep -E "^Cap(Eff|Bnd)" /proc/self/status; ulimit -n; echo $GREETING; pwd'];
      spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [1000, 44] };
      spec.process!.env = [...spec.process!.env!, 'GREETING=hello'];
      spec.process!.cwd = '/srv/work'; // made, as runc makes a missing cwd: so the root may not be read-only
      spec.root.readonly = false;
      spec.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: [], permitted: [] };
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
    });
    const ran = spawnSync(process.execPath, [OCI, '--root', root, 'run', '--bundle', bundle, 'u1'], { encoding: 'utf8', timeout: 30_000 });
    // CAP_CHOWN is bit 0, CAP_KILL bit 5: 0x21.
    expect(ran).toMatchObject({ status: 0, stdout: '1000\n1000\n1000 44\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000021\n256\nhello\n/srv/work\n' });
  });

  it('masks the paths config.json masks and makes its read-only paths read-only', () => {
    bundle = writeBundle('p1', command('sh', '-c', 'grep -E " /proc/(keys|sys) " /proc/self/mountinfo | cut -d" " -f5,6 | cut -d, -f1; echo 1 > /proc/sys/kernel/panic || echo refused'));
    const ran = spawnSync(process.execPath, [OCI, '--root', root, 'run', '--bundle', bundle, 'p1'], { encoding: 'utf8', timeout: 30_000 });
    expect(ran.stdout).toBe('/proc/keys rw\n/proc/sys ro\nrefused\n');
  });

  it('hands a terminal\'s master to --console-socket, as runc does, and the program runs on it', async () => {
    // The caller's side, as containerd's shim does it: listen, take the descriptor (SCM_RIGHTS), read the terminal.
    const consoleSocket = path.join(dir, 'console.sock');
    const receiver = spawn('python3', ['-c', `
import os, socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1]); server.listen(1)
connection, _ = server.accept()
name, fds, _, _ = socket.recv_fds(connection, 64, 1)
print(name.decode(), flush=True)
out = b''
while True:
    try:
        chunk = os.read(fds[0], 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
print(out.decode().replace('\\r', ''), flush=True)
`, consoleSocket], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    receiver.stdout!.setEncoding('utf8').on('data', (text: string) => { heard += text; });
    const receiverDone = new Promise((resolve) => receiver.on('exit', resolve));
    try {
      await eventually(() => fs.existsSync(consoleSocket));
      bundle = writeBundle('t1', (spec) => {
        spec.process!.terminal = true;
        spec.process!.consoleSize = { height: 33, width: 101 };
        spec.process!.args = ['sh', '-c', 'tty; stty size'];
      });
      fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'tty'));
      fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', 'stty'));
      expect(oci(['create', '--bundle', bundle, '--console-socket', consoleSocket, 't1'])).toMatchObject({ status: 0, stderr: '' });
      expect(oci(['start', 't1'])).toMatchObject({ status: 0 });
      await receiverDone;
      expect(heard).toBe('/dev/ptmx\n/dev/pts/0\n33 101\n\n');
      expect(oci(['create', '--bundle', bundle, 't2'])).toMatchObject({ status: 1, stderr: expect.stringContaining('needs --console-socket') });
    } finally {
      receiver.kill('SIGKILL');
    }
  });

  it('with --no-pivot, moves the root onto / and chroots into it: the program sees the bundle\'s root', () => {
    bundle = writeBundle('v1', command('sh', '-c', 'ls /; cut -d" " -f4,5 /proc/self/mountinfo | head -1'));
    const ran = spawnSync(process.execPath, [OCI, '--root', root, 'run', '--no-pivot', '--bundle', bundle, 'v1'], { encoding: 'utf8', timeout: 30_000 });
    expect(ran).toMatchObject({ status: 0, stdout: `bin\ndev\nproc\nsys\n${bundle}/rootfs /\n`, stderr: '' });
  });

  it('passes the caller\'s descriptors 3 .. 3 + N - 1 with --preserve-fds N, and no other', () => {
    // `; true`: the shell would exec a last command in its place, and ls would list its own descriptors.
    bundle = writeBundle('f1', command('sh', '-c', 'echo through 3 >&3; ls /proc/$$/fd; true'));
    const [three, four] = [path.join(dir, 'three'), path.join(dir, 'four')];
    const fds = [fs.openSync(three, 'w'), fs.openSync(four, 'w')];
    try {
      const run = (...flags: string[]) => spawnSync(process.execPath, [OCI, '--root', root, 'run', ...flags, '--bundle', bundle, 'f1'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe', ...fds] });
      expect(run('--preserve-fds', '1')).toMatchObject({ status: 0, stdout: '0\n1\n2\n3\n', stderr: '' });
      expect(fs.readFileSync(three, 'utf8')).toBe('through 3\n');
      expect(fs.readFileSync(four, 'utf8')).toBe('');
      expect(run()).toMatchObject({ status: 0, stdout: '0\n1\n2\n', stderr: expect.stringContaining('Bad file descriptor') });
      expect(run('--preserve-fds', '200')).toMatchObject({ status: 1, stderr: expect.stringMatching(/--preserve-fds 200: descriptor \d+ is not open \(EBADF\)/) });
      expect(fs.readdirSync(root)).toEqual([]);

      // exec's process too.
      bundle = writeBundle('f2', command('sleep', '60'));
      expect(oci(['create', '--bundle', bundle, 'f2']).status).toBe(0);
      expect(oci(['start', 'f2']).status).toBe(0);
      const exec = spawnSync(process.execPath, [OCI, '--root', root, 'exec', '--preserve-fds', '1', 'f2', 'sh', '-c', 'echo exec through 3 >&3; ls /proc/$$/fd; true'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe', ...fds] });
      expect(exec).toMatchObject({ status: 0, stdout: '0\n1\n2\n3\n', stderr: '' });
      expect(fs.readFileSync(three, 'utf8')).toBe('through 3\nexec through 3\n');
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  });

  it('refuses what it cannot honour by name, before anything is made', () => {
    bundle = writeBundle('x1', (spec) => { spec.linux!.namespaces!.push({ type: 'user' }); });
    expect(oci(['create', '--bundle', bundle, 'x1'])).toMatchObject({ status: 1, stderr: expect.stringContaining('config.json: linux.namespaces: user namespaces') });
    expect(oci(['--systemd-cgroup', 'create', '--bundle', bundle, 'x1'])).toMatchObject({ status: 1, stderr: expect.stringContaining('--systemd-cgroup') });
    expect(fs.existsSync(path.join(root, 'x1'))).toBe(false);
  });

  it('writes a default spec once, and tells its features', () => {
    const at = fs.mkdtempSync(path.join(dir, 'spec-'));
    expect(spawnSync(process.execPath, [OCI, 'spec', '--bundle', at]).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(at, 'config.json'), 'utf8'))).toMatchObject({ ociVersion: '1.0.2', root: { path: 'rootfs' } });
    expect(spawnSync(process.execPath, [OCI, 'spec', '--bundle', at], { encoding: 'utf8' }).stderr).toContain('exists');
    const features = JSON.parse(spawnSync(process.execPath, [OCI, 'features'], { encoding: 'utf8' }).stdout) as { ociVersionMax: string; linux: { cgroup: object } };
    expect(features).toMatchObject({ ociVersionMax: '1.0.2', linux: { cgroup: { v1: true, v2: true, systemd: false } } });
    expect(spawnSync(process.execPath, [OCI, '--version'], { encoding: 'utf8' }).stdout).toMatch(/^tsrun-oci version .+\nspec: 1\.0\.2\n$/);
  });
});
