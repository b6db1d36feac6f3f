// tsrun-oci behind a real caller: Debian's dockerd, started here on a private socket, data root and exec root,
// with `--add-runtime tsrun=bin/tsrun-oci.js`, and driven by the docker CLI with `--runtime tsrun`. dockerd asks
// its own containerd, whose shim runs tsrun-oci create, start, exec, kill, delete as it runs runc. The daemon's
// bridge is one the test makes (tsrunoci0, 10.213.7.1/24), with no firewall rules and no masquerading: dockerd's
// prestart hook (libnetwork-setkey) puts a container on it between create and start. Most tests use --network none.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, hostSnapshot } from '../helpers/cli.js';

const DOCKERD = '/usr/sbin/dockerd';
const DOCKER = '/usr/local/bin/docker';
const OCI = path.resolve(import.meta.dirname, '../../bin/tsrun-oci.js');
const BRIDGE = 'tsrunoci0';
const ready = process.getuid?.() === 0 && fs.existsSync(DOCKERD) && fs.existsSync(DOCKER) && fs.existsSync('/bin/busybox');

describe.skipIf(!ready)('dockerd with tsrun-oci as a runtime (as root)', () => {
  let dir: string;
  let socket: string;
  let dockerd: ChildProcess;
  let before: ReturnType<typeof hostSnapshot>;
  let hadRunDocker: boolean;

  const docker = (args: string[], input?: string) => {
    const result = spawnSync(DOCKER, ['-H', `unix://${socket}`, ...args], {
      encoding: 'utf8', input, timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const run = (...args: string[]) => docker(['run', '--runtime', 'tsrun', '--network', 'none', ...args]);

  beforeAll(async () => {
    before = hostSnapshot();
    hadRunDocker = fs.existsSync('/run/docker');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-docker-'));
    socket = path.join(dir, 'docker.sock');
    for (const args of [['link', 'add', BRIDGE, 'type', 'bridge'], ['addr', 'add', '10.213.7.1/24', 'dev', BRIDGE], ['link', 'set', BRIDGE, 'up']]) {
      expect(spawnSync('ip', args).status).toBe(0);
    }
    dockerd = spawn(DOCKERD, [
      '--host', `unix://${socket}`, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'docker.pid'), '--iptables=false', '--ip-masq=false', `--bridge=${BRIDGE}`,
      '--storage-driver', 'vfs', '--exec-opt', 'native.cgroupdriver=cgroupfs', '--cgroup-parent', 'tsrun-oci-docker-test',
      '--add-runtime', `tsrun=${OCI}`,
    ], { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'dockerd.log'), 'w')] });
    await eventually(() => docker(['version']).status === 0, 30_000);
    // The image: the same busybox as the bundles' of oci.test.ts, imported from a tar of its root.
    const rootfs = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const tool of ['sh', 'echo', 'cat', 'sleep', 'wc', 'ps', 'sort', 'tr', 'ip', 'ping', 'grep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', tool));
    const tar = spawnSync('tar', ['-C', rootfs, '-c', '.'], { maxBuffer: 64 << 20 });
    const imported = spawnSync(DOCKER, ['-H', `unix://${socket}`, 'import', '-', 'oci-test'], { input: tar.stdout, encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') } });
    expect(imported.status, imported.stderr).toBe(0);
  }, 90_000);

  afterAll(async () => {
    if (dockerd) {
      const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', ...ids]);
      dockerd.kill('SIGTERM');
      await eventually(() => dockerd.exitCode !== null || dockerd.signalCode !== null, 30_000);
    }
    spawnSync('ip', ['link', 'delete', BRIDGE]);
    fs.rmSync(dir, { recursive: true, force: true });
    // dockerd makes /run/docker/plugins whatever its exec root.
    if (!hadRunDocker) fs.rmSync('/run/docker', { recursive: true, force: true });
    for (const c of ['memory', 'pids', 'freezer', 'devices', 'cpu,cpuacct', 'cpuset', 'blkio', 'net_cls,net_prio', 'perf_event', 'hugetlb']) {
      fs.rmSync(`/sys/fs/cgroup/${c}/tsrun-oci-docker-test`, { recursive: false, force: true });
    }
    await eventually(() => JSON.stringify(hostSnapshot()) === JSON.stringify(before), 10_000);
  }, 90_000);

  it('docker run --rm: the output, the exit code, and 127 for a command that is not there', () => {
    expect(run('--rm', 'oci-test', 'echo', 'hi')).toEqual({ status: 0, stdout: 'hi\n', stderr: '' });
    expect(run('--rm', 'oci-test', 'sh', '-c', 'echo out; echo err >&2; exit 3')).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n' });
    const missing = run('--rm', 'oci-test', 'no-such-command');
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('exec: "no-such-command": executable file not found in $PATH');
  });

  it('docker run on the daemon\'s bridge: dockerd\'s prestart hook gives the container its address between create and start', () => {
    const ran = docker(['run', '--runtime', 'tsrun', '--rm', 'oci-test', 'sh', '-c', 'ip -4 -o addr show eth0; ping -c 1 -W 2 10.213.7.1 | grep -c " 0% packet loss"']);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/eth0\s+inet 10\.213\.7\.\d+\/24 [\s\S]*\n1\n$/);
  });

  it('passes piped input to docker run -i', () => {
    expect(run('--rm', '-i', 'oci-test', 'wc', '-c')).toMatchObject({ status: 0 });
    expect(docker(['run', '--runtime', 'tsrun', '--network', 'none', '--rm', '-i', 'oci-test', 'cat'], 'from stdin\n')).toEqual({ status: 0, stdout: 'from stdin\n', stderr: '' });
  });

  it('docker run -d, then exec, top, pause and stop', () => {
    const started = run('-d', 'oci-test', 'sleep', '60');
    expect(started.status).toBe(0);
    const id = started.stdout.trim();
    expect(docker(['exec', id, 'sh', '-c', 'echo in $(cat /proc/1/cmdline | tr "\\0" " "); exit 4'])).toMatchObject({ status: 4 });
    expect(docker(['exec', id, 'sh', '-c', 'ps -o comm | sort'])).toMatchObject({ status: 0, stdout: expect.stringContaining('sleep') });
    expect(docker(['top', id])).toMatchObject({ status: 0, stdout: expect.stringContaining('sleep 60') });
    expect(docker(['pause', id]).status).toBe(0);
    expect(docker(['inspect', '-f', '{{.State.Status}}', id]).stdout).toBe('paused\n');
    expect(docker(['unpause', id]).status).toBe(0);
    const updated = docker(['update', '--memory', '64m', '--memory-swap', '128m', id]);
    expect(updated.status, updated.stderr).toBe(0);
    expect(docker(['exec', id, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).toMatchObject({ status: 0, stdout: `${64 << 20}\n` });
    // sleep, as PID 1, has no handler for SIGTERM: docker stop kills it after the timeout, as with runc.
    expect(docker(['stop', '-t', '1', id]).status).toBe(0);
    expect(docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id]).stdout).toBe('exited 137\n');
    expect(docker(['rm', id]).status).toBe(0);
  });

  it('docker run -it and docker exec -it: the terminal reaches the CLI through the console socket', () => {
    // script(1) gives the docker CLI a terminal of its own; -e returns the command's exit code.
    const inTerminal = (command: string) => spawnSync('script', ['-eqc', command, '/dev/null'], {
      encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    });
    const cli = `${DOCKER} -H unix://${socket}`;
    const ran = inTerminal(`${cli} run --runtime tsrun --network none --rm -it oci-test sh -c 'tty; exit 5'`);
    expect(ran.status).toBe(5);
    expect(ran.stdout).toContain('/dev/pts/0\r\n');
    const started = run('-d', 'oci-test', 'sleep', '60');
    const id = started.stdout.trim();
    const execed = inTerminal(`${cli} exec -it ${id} sh -c 'tty; exit 6'`);
    expect(execed.status).toBe(6);
    expect(execed.stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
    expect(docker(['rm', '-f', id]).status).toBe(0);
  });
});
