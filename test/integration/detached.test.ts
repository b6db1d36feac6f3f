// Detached containers, as root: `run -d` returns at once and the container
// lives on under tsrun-monitor, which logs its output (Docker's json-file) and
// records its exit; logs, wait, stop (SIGTERM, then SIGKILL), kill and start;
// and what happens when the monitor or a foreground tsrun is killed -9.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, storeWithDemoImage, TSRUN, tsrun } from '../helpers/cli.js';
import { isSameProcess } from '../../src/kernel/proc.js';

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('detached containers (as root)', () => {
  let root: string;
  const run = (...args: string[]) => tsrun(root, args);
  const state = (name: string) => JSON.parse(run('inspect', '-f', '{{json .State}}', name).stdout) as { Status: string; Pid: number; ExitCode: number };
  const stateFile = (name: string) => JSON.parse(fs.readFileSync(path.join(root, 'containers', run('inspect', '-f', '{{.Id}}', name).stdout.trim(), 'state.json'), 'utf8'));
  const cgroupDirs = (id: string) => ['memory', 'pids', 'cpu'].map((c) => `/sys/fs/cgroup/${c}/tsrun/${id}`).filter((dir) => fs.existsSync(dir));

  beforeAll(async () => {
    root = await storeWithDemoImage('detached');
  });
  afterAll(() => {
    run('rm', '-f', ...run('ps', '-aq').stdout.split('\n').filter(Boolean));
    // The orphan's lease (and its namespace file) is freed by the next network change, as after a crash: this one.
    run('network', 'prune');
    fs.rmSync(root, { recursive: true, force: true });
    // No cgroup of tsrun's is left, not even its parent: whichever way a container ended, it was the last one.
    const controllers = fs.readdirSync('/sys/fs/cgroup');
    expect(controllers.filter((controller) => fs.existsSync(`/sys/fs/cgroup/${controller}/tsrun`))).toEqual([]);
  });

  it('runs in the background after tsrun exits, logs stdout and stderr as json-file lines, and records the exit', async () => {
    const started = run('run', '-d', '--name', 'talker', 'tsrun-demo', 'sh', '-c', 'echo to stdout; echo to stderr >&2; read x < /dev/zero & sleep 1; echo done; exit 3');
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^[a-f0-9]{64}\n$/);
    expect(state('talker').Status).toBe('running');
    expect(run('wait', 'talker')).toEqual({ status: 0, stdout: '3\n', stderr: '' });
    expect(state('talker')).toMatchObject({ Status: 'exited', ExitCode: 3 });
    const logs = run('logs', 'talker');
    expect(logs.stdout).toBe('to stdout\ndone\n');
    expect(logs.stderr).toBe('to stderr\n');
    const id = started.stdout.trim();
    const lines = fs.readFileSync(path.join(root, 'containers', id, `${id}-json.log`), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({ log: 'to stdout\n', stream: 'stdout', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/) });
    expect(run('logs', '--tail', '1', '-t', 'talker').stdout).toMatch(/^\S+Z done\n$/);
    // What it held while running is gone: its run directory and its cgroup.
    expect(fs.existsSync(path.join(root, 'run', 'containers', id))).toBe(false);
    expect(cgroupDirs(id)).toEqual([]);
  });

  it('exits 127 for a missing command and 126 for one that cannot run, as the foreground does: the monitor passes the failure on', () => {
    const missing = run('run', '-d', '--name', 'missing', 'tsrun-demo', 'no-such-command');
    expect(missing).toMatchObject({ status: 127, stderr: expect.stringMatching(/exec: "no-such-command": executable file not found in \$PATH/) });
    const notExecutable = run('run', '-d', '--name', 'not-executable', 'tsrun-demo', '/etc/passwd');
    expect(notExecutable).toMatchObject({ status: 126, stderr: expect.stringMatching(/exec: "\/etc\/passwd": permission denied/) });
    run('rm', '-f', 'missing', 'not-executable');
  });

  it('stops a container that ignores SIGTERM with SIGKILL after the timeout, starts it again, and kills it', async () => {
    run('run', '-d', '--name', 'stubborn', 'tsrun-demo', 'sleep', '60');
    const before = Date.now();
    expect(run('stop', '-t', '1', 'stubborn')).toEqual({ status: 0, stdout: 'stubborn\n', stderr: '' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(1000); // sleep is PID 1: SIGTERM does nothing to it
    expect(state('stubborn')).toMatchObject({ Status: 'exited', ExitCode: 137 });
    expect(run('start', 'stubborn')).toEqual({ status: 0, stdout: 'stubborn\n', stderr: '' });
    expect(state('stubborn').Status).toBe('running');
    expect(run('kill', '-s', 'TERM', 'stubborn').status).toBe(0); // ignored, as above
    await sleep(200);
    expect(state('stubborn').Status).toBe('running');
    expect(run('kill', 'stubborn').status).toBe(0);
    expect(run('wait', 'stubborn').stdout).toBe('137\n');
    expect(run('kill', 'stubborn')).toMatchObject({ status: 125, stderr: expect.stringContaining('it is not running') });
  });

  it('execs a command inside: the same namespaces and files, the container\'s env and -e, -u and -w; 126/127 as docker', async () => {
    run('run', '-d', '--name', 'host-of-exec', '-e', 'FROM_RUN=yes', 'tsrun-demo', 'sh', '-c', 'echo written-by-pid1 > /tmp/marker; sleep 60');
    const pid = state('host-of-exec').Pid;
    await eventually(() => run('exec', 'host-of-exec', 'cat', '/tmp/marker').stdout === 'written-by-pid1\n');
    const kinds = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup'];
    const inside = run('exec', 'host-of-exec', 'sh', '-c', `for ns in ${kinds.join(' ')}; do readlink /proc/self/ns/$ns; done; echo $FROM_RUN; echo $$`);
    expect(inside.stdout.split('\n')).toEqual([...kinds.map((kind) => fs.readlinkSync(`/proc/${pid}/ns/${kind}`)), 'yes', expect.stringMatching(/^\d+$/), '']);
    expect(Number(inside.stdout.split('\n')[kinds.length + 1])).toBeLessThan(100); // a pid of the container's own namespace
    expect(run('exec', '-e', 'EXTRA=1', '-w', '/tmp', '-u', 'student', 'host-of-exec', 'sh', '-c', 'pwd; id -u; echo $EXTRA').stdout).toBe('/tmp\n1000\n1\n');
    expect(run('exec', 'host-of-exec', 'ls', '-d', '/tmp').stdout).toBe('/tmp\n'); // words after the container are its command's, -d too
    expect(run('exec', 'host-of-exec', 'no-such-command').status).toBe(127);
    expect(run('exec', 'host-of-exec', '/etc/passwd').status).toBe(126);
    expect(run('exec', 'host-of-exec', 'sh', '-c', 'exit 7').status).toBe(7);
    run('kill', 'host-of-exec');
    run('wait', 'host-of-exec');
    expect(run('exec', 'host-of-exec', 'true')).toMatchObject({ status: 125, stderr: expect.stringContaining('container host-of-exec is not running') });
    run('rm', 'host-of-exec');
  });

  it('creates without starting, starts, renames, restarts; and restarts on failure as often as the policy says', async () => {
    const id = run('create', '--name', 'made', 'tsrun-demo', 'sh', '-c', 'echo started; sleep 60').stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    expect(state('made').Status).toBe('created');
    expect(run('start', 'made')).toEqual({ status: 0, stdout: 'made\n', stderr: '' });
    expect(run('rename', 'made', 'renamed').status).toBe(0);
    expect(run('rename', 'renamed', 'talker')).toMatchObject({ status: 125, stderr: expect.stringContaining('already in use') });
    const firstPid = state('renamed').Pid;
    expect(run('restart', '-t', '1', 'renamed')).toEqual({ status: 0, stdout: 'renamed\n', stderr: '' });
    expect(state('renamed')).toMatchObject({ Status: 'running' });
    expect(state('renamed').Pid).not.toBe(firstPid);
    run('rm', '-f', 'renamed');
    // A --rm container is restarted, not removed, as Docker's restart keeps it; it goes once it stops for good.
    run('run', '-d', '--rm', '--name', 'passing', 'tsrun-demo', 'sleep', '60');
    expect(run('restart', '-t', '1', 'passing')).toEqual({ status: 0, stdout: 'passing\n', stderr: '' });
    expect(state('passing')).toMatchObject({ Status: 'running' });
    expect(run('stop', '-t', '1', 'passing').status).toBe(0);
    expect(run('ps', '-a', '--filter', 'name=passing', '-q').stdout).toBe('');

    run('run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'tsrun-demo', 'sh', '-c', 'echo try; exit 1');
    // Three runs in all (the first and two restarts, 100 and 200 ms apart), then it stays exited.
    await eventually(() => run('inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'flaky').stdout === '2 exited\n');
    expect(run('logs', 'flaky').stdout).toBe('try\ntry\ntry\n');
    expect(JSON.parse(run('inspect', '-f', '{{json .HostConfig.RestartPolicy}}', 'flaky').stdout)).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    run('run', '-d', '--name', 'always', '--restart', 'always', 'tsrun-demo', 'sleep', '60');
    expect(run('stop', '-t', '0', 'always').status).toBe(0);
    await sleep(500);
    expect(state('always').Status).toBe('exited'); // stopped by hand: not restarted
    expect(run('run', '--rm', '--restart', 'always', 'tsrun-demo', 'true')).toMatchObject({ status: 125, stderr: expect.stringContaining('conflicting options: --restart and --rm') });
  });

  it('pauses and unpauses with the cgroup freezer, and shows usage with stats', async () => {
    run('run', '-d', '--name', 'spinner', '--memory', '64m', 'tsrun-demo', 'sh', '-c', 'while true; do :; done');
    const busy = run('stats', '--no-stream', 'spinner').stdout.split('\n')[1]!.split(/\s{2,}/);
    expect(busy[1]).toBe('spinner');
    expect(Number(busy[2]!.replace('%', ''))).toBeGreaterThan(20); // a loop keeps a CPU busy
    expect(busy[3]).toMatch(/ \/ 67\.1MB$/);
    expect(run('pause', 'spinner').status).toBe(0);
    expect(run('ps').stdout).toMatch(/Up .* \(Paused\)/);
    expect(run('inspect', '-f', '{{.State.Paused}}', 'spinner').stdout).toBe('true\n');
    const frozen = run('stats', '--no-stream', 'spinner').stdout.split('\n')[1]!.split(/\s{2,}/);
    expect(frozen[2]).toBe('0.00%'); // frozen: no CPU at all
    expect(run('exec', 'spinner', 'true')).toMatchObject({ status: 125, stderr: expect.stringContaining('is paused') });
    expect(run('unpause', 'spinner').status).toBe(0);
    expect(run('inspect', '-f', '{{.State.Status}}', 'spinner').stdout).toBe('running\n');
    expect(run('pause', 'spinner').status).toBe(0);
    expect(run('stop', '-t', '1', 'spinner').status).toBe(0); // a paused container stops too
    expect(state('spinner').Status).toBe('exited');
  });

  it('filters and formats ps as docker does, and shows disk usage with system df', () => {
    run('run', '--name', 'exited-7', 'tsrun-demo', 'sh', '-c', 'echo kept > /file; exit 7');
    run('run', '-d', '--name', 'up-now', 'tsrun-demo', 'sleep', '60');
    expect(run('ps', '--format', '{{.Names}} {{.State}}').stdout).toBe('up-now running\n');
    expect(run('ps', '--filter', 'exited=7', '--format', '{{.Names}}').stdout).toBe('exited-7\n');
    expect(run('ps', '--filter', 'status=running', '--filter', 'status=exited', '--filter', 'name=-', '--format', '{{.Names}}').stdout.split('\n').sort()).toEqual(['', 'exited-7', 'up-now']);
    expect(run('ps', '--format', 'table {{.Names}}\\t{{.Status}}').stdout).toMatch(/^NAMES\tSTATUS\nup-now\tUp /);
    expect(run('ps', '--filter', 'colour=red')).toMatchObject({ status: 125, stderr: expect.stringContaining('invalid filter "colour=red"') });
    const df = run('system', 'df').stdout.split('\n');
    expect(df[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(df[2]).toMatch(/^Containers\s+\d+\s+1\s+/); // up-now is the one running
    run('rm', '-f', 'exited-7', 'up-now');
  });

  it('attaches to a detached container: its output from now on, stdin for -i, and its exit code', async () => {
    run('run', '-d', '-i', '--name', 'listener', 'tsrun-demo', 'sh', '-c', 'echo ready; read line; echo got $line; exit 5');
    await eventually(() => run('logs', 'listener').stdout === 'ready\n');
    expect(tsrun(root, ['attach', 'listener'], { input: 'hello\n' })).toEqual({ status: 5, stdout: 'got hello\n', stderr: '' });
    expect(run('attach', 'listener')).toMatchObject({ status: 125, stderr: expect.stringContaining('is not running') });
  });

  it('detaches from a container with a terminal at ctrl-p ctrl-q (or --detach-keys), leaving it running', async () => {
    run('run', '-d', '-i', '-t', '--name', 'shell', 'tsrun-demo', 'sh');
    // script(1) gives attach a terminal, and what the test writes is typed into it: a command, once attach is
    // listening (a key typed before attach makes the terminal raw would be the line discipline's), then the keys.
    const attached = async (command: string, keys: string, flags: string[] = []) => {
      const script = spawn('script', ['-qfec', [process.execPath, TSRUN, 'attach', ...flags, 'shell'].join(' '), '/dev/null'], {
        env: { ...process.env, TSRUN_ROOT: root }, stdio: ['pipe', 'pipe', 'ignore'],
      });
      let output = '';
      script.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
      const exited = new Promise<number | null>((resolve) => script.once('exit', resolve));
      try {
        await sleep(1_500);
        script.stdin.write(`${command}\r`);
        await eventually(() => /= \d+\r*\n/.test(output), 10_000); // its answer: the shell read the line
        script.stdin.write(keys);
        return { status: await Promise.race([exited, sleep(10_000).then(() => 'still attached')]), output };
      } finally {
        script.kill('SIGKILL');
      }
    };
    const first = await attached('echo = $((6*7))', '\x10\x11');
    expect(first).toEqual({ status: 1, output: expect.stringMatching(/= 42\r*\n(.|\n)*read escape sequence/) });
    expect(state('shell').Status).toBe('running');
    // Other keys: "x" detaches; ctrl-p is a key like any other then.
    const second = await attached('echo = $((2*3))', 'x', ['--detach-keys', 'x']);
    expect(second).toEqual({ status: 1, output: expect.stringMatching(/= 6\r*\n(.|\n)*read escape sequence/) });
    expect(state('shell').Status).toBe('running');
    expect(run('attach', '--detach-keys', 'ctrl-1', 'shell')).toMatchObject({ status: 125, stderr: expect.stringContaining('invalid detach keys "ctrl-1"') });
    expect(run('rm', '-f', 'shell').status).toBe(0);
  });

  it('rm -f of a running detached container removes its cgroup too (its monitor frees it before the record goes)', () => {
    const id = run('run', '-d', '--name', 'forced', '--network', 'none', 'tsrun-demo', 'sleep', '60').stdout.trim();
    expect(cgroupDirs(id)).not.toEqual([]);
    expect(run('rm', '-f', 'forced')).toEqual({ status: 0, stdout: 'forced\n', stderr: '' });
    expect(cgroupDirs(id)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'containers', id))).toBe(false);
  });

  it('rotates the log past --log-opt max-size, and stops with the container\'s own --stop-signal', async () => {
    const id = run('run', '-d', '--name', 'chatty', '--log-opt', 'max-size=1k', 'tsrun-demo', 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo line $i; done').stdout.trim();
    expect(run('wait', 'chatty').stdout).toBe('0\n');
    const log = path.join(root, 'containers', id, `${id}-json.log`);
    expect(fs.statSync(`${log}.1`).size).toBeLessThanOrEqual(1024);
    expect(fs.statSync(log).size).toBeLessThanOrEqual(1024);
    const kept = run('logs', 'chatty').stdout.split('\n').filter(Boolean);
    expect(kept.at(-1)).toBe('line 100');
    expect(kept.length).toBeLessThan(100); // older lines went with the rotation
    expect(run('run', '--log-opt', 'max-file=3', 'tsrun-demo', 'true')).toMatchObject({ status: 125, stderr: expect.stringContaining('invalid --log-opt "max-file=3"') });

    run('run', '-d', '--name', 'polite', '--stop-signal', 'USR1', 'tsrun-demo', 'sh', '-c', 'trap "echo got USR1; exit 0" USR1; echo ready; while true; do sleep 0.1; done');
    await eventually(() => run('logs', 'polite').stdout === 'ready\n');
    const before = Date.now();
    expect(run('stop', '-t', '10', 'polite').status).toBe(0);
    expect(Date.now() - before).toBeLessThan(5000); // it acted on the signal: no SIGKILL after the timeout
    expect(state('polite').ExitCode).toBe(0);
    expect(run('logs', 'polite').stdout).toBe('ready\ngot USR1\n');
  });

  it('keeps the container when its monitor is killed -9, and reconciles once the container is gone too', async () => {
    const id = run('run', '-d', '--name', 'orphan', 'tsrun-demo', 'sleep', '60').stdout.trim();
    const { monitor, pid } = stateFile('orphan');
    process.kill(monitor.pid, 'SIGKILL');
    await eventually(() => !isSameProcess(monitor.pid, monitor.startTime));
    expect(state('orphan').Status).toBe('running'); // the container outlives its monitor
    process.kill(pid, 'SIGKILL');
    await eventually(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
    await eventually(() => state('orphan').Status === 'exited');
    expect(state('orphan').ExitCode).toBe(137);
    expect(cgroupDirs(id)).toEqual([]);
    expect(fs.existsSync(path.join(root, 'run', 'containers', id))).toBe(false);
  });

  it('reconciles a foreground container whose tsrun was killed -9: exited 137, its cgroup removed', async () => {
    const child = spawn(process.execPath, [TSRUN, 'run', '--name', 'abandoned', '--network', 'none', 'tsrun-demo', 'sh', '-c', 'echo up; sleep 60'], { env: { ...process.env, TSRUN_ROOT: root } });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const id = run('inspect', '-f', '{{.Id}}', 'abandoned').stdout.trim();
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await eventually(() => state('abandoned').Status === 'exited'); // the kernel killed the container with its tsrun
    expect(state('abandoned').ExitCode).toBe(137);
    expect(cgroupDirs(id)).toEqual([]);
  });

  it('after kill -9 of a foreground --rm run on the bridge, as another user: the container dies, and the next command removes it and frees its network', async () => {
    const child = spawn(process.execPath, [TSRUN, 'run', '--rm', '--name', 'dropped', '-u', '1000', 'tsrun-demo', 'sh', '-c', 'echo up; sleep 61'], { env: { ...process.env, TSRUN_ROOT: root } });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const id = run('inspect', '-f', '{{.Id}}', 'dropped').stdout.trim();
    const { pid } = stateFile('dropped');
    const address = run('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'dropped').stdout.trim();
    expect(address).toMatch(/^10\.88\./);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // setuid to user 1000 made the kernel forget the parent-death signal: the child set it again before execve.
    await eventually(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'));
    expect(run('ps', '-a', '-q').stdout).not.toContain(id.slice(0, 12)); // --rm, done by the next command
    expect(fs.existsSync(path.join(root, 'containers', id))).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(id); // its netns file, unmounted
    expect(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout).not.toContain(`tsrun${id.slice(0, 8)}`);
    expect(JSON.stringify(JSON.parse(fs.readFileSync('/run/tsrun/network/tsrun0.json', 'utf8')))).not.toContain(id);
    expect(cgroupDirs(id)).toEqual([]);
  });
});
