// Confinement for real, as root: what a container's root may do, read from
// inside the container (/proc/self/status, mounts, device nodes), by default
// and with each of Docker's flags that loosens or tightens it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;

/** Docker's default 14 capabilities, as /proc/PID/status shows a set. */
const DOCKER_DEFAULT = '00000000a80425fb';

/** One field of /proc/self/status in the output of `grep Field /proc/self/status`. */
const field = (output: string, name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(output)?.[1];

describe.skipIf(!asRoot)('confinement (as root)', () => {
  let root: string;
  /** test/helpers/syscall-probe.c, built static so it runs in any image; mounted at /probe. */
  let probe: string;
  const run = (args: string[], options = {}) => tsrun(root, args, options);
  const inContainer = (flags: string[], script: string) => run(['run', '--rm', '--network', 'none', ...flags, 'tsrun-demo', 'sh', '-c', script]);
  const status = (flags: string[] = []) => inContainer(flags, 'cat /proc/self/status').stdout;

  beforeAll(async () => {
    root = await storeWithDemoImage('confinement');
    probe = path.join(root, 'syscall-probe');
    const built = spawnSync('gcc', ['-static', '-O2', '-o', probe, path.resolve(import.meta.dirname, '../helpers/syscall-probe.c')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the syscall probe failed: ${built.stderr}`);
  });
  afterAll(() => {
    run(['rm', '-f', ...run(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('gives root Docker\'s 14 capabilities, nothing inheritable or ambient, and no_new_privs off', () => {
    const own = status();
    expect(field(own, 'CapBnd')).toBe(DOCKER_DEFAULT);
    expect(field(own, 'CapEff')).toBe(DOCKER_DEFAULT);
    expect(field(own, 'CapPrm')).toBe(DOCKER_DEFAULT);
    expect(field(own, 'CapInh')).toBe('0000000000000000');
    expect(field(own, 'CapAmb')).toBe('0000000000000000');
    expect(field(own, 'NoNewPrivs')).toBe('0');
  });

  it('filters system calls with Docker\'s default seccomp profile; seccomp=unconfined turns it off', () => {
    const probing = (flags: string[]) => run(['run', '--rm', '--network', 'none', '-v', `${probe}:/probe:ro`, ...flags, 'tsrun-demo', '/probe', 'keyctl', 'unshare-user']).stdout;
    expect(field(status(), 'Seccomp')).toBe('2');
    // Neither needs a capability: only the filter refuses them.
    expect(probing([])).toBe('keyctl: EPERM\nunshare-user: EPERM\n');
    expect(field(status(['--security-opt', 'seccomp=unconfined']), 'Seccomp')).toBe('0');
    expect(probing(['--security-opt', 'seccomp=unconfined'])).toBe('keyctl: ok\nunshare-user: ok\n');
    expect(field(status(['--privileged']), 'Seccomp')).toBe('0');
    // A non-root user gets the filter too: it is loaded before the switch, while the child may still load one.
    expect(field(status(['-u', '1000']), 'Seccomp')).toBe('2');
  });

  it('loads a profile in Docker\'s format from a file, and refuses a malformed one', () => {
    const profile = path.join(root, 'no-mkdir.json');
    fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const probed = run(['run', '--rm', '--network', 'none', '-v', `${probe}:/probe:ro`, '--security-opt', `seccomp=${profile}`, 'tsrun-demo', '/probe', 'mkdir', 'keyctl']);
    expect(probed.stdout).toBe('mkdir: EACCES\nkeyctl: ok\n');
    fs.writeFileSync(profile, '{"defaultAction": "SCMP_ACT_MAYBE", "syscalls": []}');
    const refused = run(['run', '--rm', '--security-opt', `seccomp=${profile}`, 'tsrun-demo', 'true']);
    expect(refused.status).toBe(125);
    expect(refused.stderr).toMatch(/defaultAction "SCMP_ACT_MAYBE" is not an action tsrun knows/);
  });

  it('refuses mount, and keeps /proc/sys read-only and the masked paths empty', () => {
    const result = inContainer([], [
      'mount -t tmpfs t /tmp 2>/dev/null && echo mounted',
      'echo 5 2>/dev/null > /proc/sys/kernel/ns_last_pid && echo wrote-proc-sys',
      'cat /proc/keys /proc/interrupts /proc/timer_list 2>/dev/null | wc -c',
      'ls /sys/firmware | wc -l',
      'grep -c " /proc/sys proc ro," /proc/self/mounts',
    ].join('; '));
    expect(result.stdout).toBe('0\n0\n1\n');
  });

  it('gives a user other than root no capabilities in effect, only the bounding set', () => {
    const own = status(['-u', '1000']);
    expect(field(own, 'CapEff')).toBe('0000000000000000');
    expect(field(own, 'CapPrm')).toBe('0000000000000000');
    expect(field(own, 'CapBnd')).toBe(DOCKER_DEFAULT);
  });

  it('--cap-drop ALL leaves nothing; --cap-add and --cap-drop change the default set by name', () => {
    expect(field(status(['--cap-drop', 'ALL']), 'CapEff')).toBe('0000000000000000');
    expect(field(status(['--cap-drop', 'ALL']), 'CapBnd')).toBe('0000000000000000');
    // NET_ADMIN is bit 12, KILL bit 5; written three ways, as docker accepts them.
    const changed = status(['--cap-add', 'net_admin', '--cap-drop', 'CAP_KILL']);
    expect(field(changed, 'CapEff')).toBe('00000000a80435db');
    expect(inContainer(['--cap-add', 'NET_ADMIN'], 'ip link set lo down && echo done').stdout).toBe('done\n');
    expect(inContainer([], 'ip link set lo down 2>/dev/null || echo refused').stdout).toBe('refused\n');
  });

  it('--cap-drop SETUID still lets tsrun switch to the user, since the switch comes first', () => {
    expect(run(['run', '--rm', '--network', 'none', '--cap-drop', 'SETUID', '-u', '1000', 'tsrun-demo', 'id', '-u'])).toMatchObject({ status: 0, stdout: '1000\n' });
  });

  it('--privileged gives every capability tsrun has, writable /proc/sys and /sys, and mount', () => {
    const own = fs.readFileSync('/proc/self/status', 'utf8');
    const privileged = inContainer(['--privileged'], [
      'grep CapEff /proc/self/status',
      'mount -t tmpfs t /tmp && echo mounted',
      'echo 5 > /proc/sys/kernel/ns_last_pid && echo wrote-proc-sys', // this PID namespace's own counter: harmless
      'grep -c " /sys sysfs rw," /proc/self/mounts',
    ].join('; '));
    expect(privileged.stdout).toBe(`CapEff:\t${field(own, 'CapBnd')}\nmounted\nwrote-proc-sys\n1\n`);
  });

  it('--security-opt no-new-privileges sets NoNewPrivs; systempaths=unconfined lifts the read-only /proc/sys', () => {
    expect(field(status(['--security-opt', 'no-new-privileges']), 'NoNewPrivs')).toBe('1');
    expect(field(status(['--security-opt', 'no-new-privileges:false']), 'NoNewPrivs')).toBe('0');
    const unconfined = inContainer(['--security-opt', 'systempaths=unconfined'], 'grep -c " /proc/sys proc ro," /proc/self/mounts');
    expect(unconfined.stdout).toBe('0\n');
  });

  it('--ulimit sets the soft and hard limits', () => {
    expect(inContainer(['--ulimit', 'nofile=100:200'], 'ulimit -n; ulimit -Hn').stdout).toBe('100\n200\n');
  });

  it('refuses a device node the image ships, unless --privileged or --device allows it', () => {
    // A block device the host's root can open (loop devices are major 7); an image can carry a node for any numbers.
    expect(run(['run', '--name', 'maker', '--network', 'none', 'tsrun-demo', 'mknod', '/hostdisk', 'b', '7', '0']).status).toBe(0);
    expect(run(['commit', 'maker', 'with-a-disk']).status).toBe(0);
    run(['rm', 'maker']);
    const hostNode = path.join(os.tmpdir(), `tsrun-confinement-disk-${process.pid}`);
    try {
      const open = (flags: string[], node = '/hostdisk') => run(['run', '--rm', '--network', 'none', ...flags, 'with-a-disk', 'head', '-c', '1', node]).stderr;
      expect(open([])).toMatch(/hostdisk: Operation not permitted/);
      expect(open(['--privileged'])).not.toMatch(/Operation not permitted/);
      expect(spawnSync('mknod', [hostNode, 'b', '7', '0']).status).toBe(0);
      expect(open(['--device', `${hostNode}:/dev/disk0:r`], '/dev/disk0')).not.toMatch(/Operation not permitted/);
      expect(open(['--device', `${hostNode}:/dev/disk0:w`], '/dev/disk0')).toMatch(/disk0: Operation not permitted/); // allowed to write, not read
    } finally {
      fs.rmSync(hostNode, { force: true });
      run(['rmi', 'with-a-disk']);
    }
  });

  it('confines a process started by exec the same way', () => {
    const started = run(['run', '-d', '--name', 'confined', '--network', 'none', 'tsrun-demo', 'sleep', '30']);
    expect(started.status).toBe(0);
    try {
      const own = run(['exec', 'confined', 'cat', '/proc/self/status']).stdout;
      expect(field(own, 'CapEff')).toBe(DOCKER_DEFAULT);
      expect(field(own, 'CapBnd')).toBe(DOCKER_DEFAULT);
    } finally {
      run(['rm', '-f', 'confined']);
    }
  });

  it('shows the flags in inspect as docker does', () => {
    expect(run(['create', '--name', 'shown', '--cap-add', 'net_admin', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--ulimit', 'nofile=10:20', 'tsrun-demo']).status).toBe(0);
    try {
      const [document] = JSON.parse(run(['inspect', 'shown']).stdout);
      expect(document.HostConfig).toMatchObject({
        Privileged: false, CapAdd: ['CAP_NET_ADMIN'], CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'],
        Devices: [], Ulimits: [{ Name: 'nofile', Hard: 20, Soft: 10 }],
      });
      expect(document.HostConfig.MaskedPaths).toContain('/proc/kcore');
      expect(document.HostConfig.ReadonlyPaths).toContain('/proc/sys');
    } finally {
      run(['rm', 'shown']);
    }
  });

  it('refuses bad flags with one line and exit 125, leaving no container', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--cap-add', 'FLY'], /unknown capability "FLY"/],
      [['--cap-drop', 'NOPE'], /invalid --cap-drop/],
      [['--ulimit', 'nofile=3:2'], /soft limit must not be above the hard limit/],
      [['--ulimit', 'wings=1'], /unknown resource "wings"/],
      [['--device', '/dev/does-not-exist'], /cannot add device "\/dev\/does-not-exist": ENOENT/],
      [['--device', '/etc/hostname'], /not a device node/],
      [['--security-opt', 'seccomp=/no/such/profile.json'], /cannot read seccomp profile/],
      [['--security-opt', 'turbo=on'], /"turbo" is not an option tsrun knows/],
    ];
    for (const [flags, message] of cases) {
      const result = run(['run', '--rm', ...flags, 'tsrun-demo', 'true']);
      expect(result.status, flags.join(' ')).toBe(125);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(run(['ps', '-aq']).stdout).toBe('');
  });
});
