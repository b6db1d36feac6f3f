// More of `tsrun daemon` driven by the real docker CLI, as root: `docker exec -it`, `docker top`, `docker stats`
// and `docker container prune`. The daemon is on a private socket with a private store; nothing here talks to
// anything but that socket.
import http from 'node:http';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, tsrun } from '../helpers/cli.js';
import { DOCKER, dockerReady, exitCommands, request, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

describe.skipIf(!dockerReady)('tsrun daemon: exec -t, top, stats, container prune (as root)', () => {
  let testDaemon: TestDaemon;
  const docker = (args: string[], input?: string) => testDaemon.docker(args, input);

  /** The docker CLI with a terminal of its own, `rows` by `cols`: script(1) gives it one, and types `input` into it. */
  const dockerOnTerminal = (args: string, rows: number, cols: number, input = '') => spawnSync('script', ['-eqc', `stty rows ${rows} cols ${cols}; ${DOCKER} -H unix://${testDaemon.socket} ${args}`, '/dev/null'], {
    encoding: 'utf8', input, timeout: 30_000, killSignal: 'SIGKILL', env: testDaemon.dockerEnv(),
  });
  /** A shell's words that wait (2 s at most) until the terminal is `size`: the CLI sends its size just after the
   *  start, and a command may be quicker. */
  const untilSize = (size: string) => `for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(stty size)" = "${size}" ] && break; sleep 0.2; done`;

  beforeAll(async () => {
    testDaemon = await startTestDaemon('more');
  });
  afterEach(async () => {
    await eventually(() => exitCommands().length === 0);
  });
  afterAll(() => testDaemon.stop());

  it('gives docker exec -it a terminal of its own, the size of the CLI\'s, its bytes raw, and its exit code', () => {
    expect(docker(['run', '-d', '--name', 'exec-box', 'tsrun-demo', 'sleep', '60']).status).toBe(0);
    try {
      const ran = dockerOnTerminal(`exec -it exec-box sh -c 'read line; ${untilSize('30 100')}; tty; stty size; echo "got $line"; echo err >&2; exit 5'`, 30, 100, 'typed\n');
      expect(ran.status).toBe(5);
      // One stream, as a terminal's: stderr among stdout, every line ended CR LF by the pty.
      expect(ran.stdout).toMatch(/\/dev\/pts\/\d+\r\n30 100\r\ngot typed\r\nerr\r\n/);
      // Without -i the terminal is there all the same. The CLI leaves its own terminal as it was (it makes it raw
      // only to read from it), so script's pty adds its CR to the container's CR LF.
      const sized = dockerOnTerminal(`exec -t exec-box sh -c '${untilSize('24 81')}; stty size'`, 24, 81);
      expect(sized).toMatchObject({ status: 0, stdout: '24 81\r\r\n' });
      testDaemon.expectLogged(/POST \/v1\.41\/exec\/\w+\/resize\?h=24&w=81 200 /);
      // A command that is not there: told on the terminal, raw, and 127, as without -t.
      const missing = dockerOnTerminal('exec -t exec-box no-such-command', 24, 80);
      expect(missing.status).toBe(127);
      expect(missing.stdout).toContain('exec: "no-such-command": executable file not found in $PATH');
    } finally {
      docker(['rm', '-f', 'exec-box']);
    }
  });

  it('answers docker top with the container\'s processes as ps shows them on the host, as tsrun top prints them', () => {
    expect(docker(['run', '-d', '--name', 'top-box', 'tsrun-demo', 'sleep', '60']).status).toBe(0);
    const id = docker(['create', '--name', 'top-stopped', 'tsrun-demo', 'true']).stdout.trim();
    try {
      const pid = docker(['inspect', '-f', '{{.State.Pid}}', 'top-box']).stdout.trim();
      const ef = docker(['top', 'top-box']);
      expect(ef.status).toBe(0);
      const [titles, ...rows] = ef.stdout.trimEnd().split('\n');
      expect(titles).toMatch(/^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
      // Only the container's one process, by its pid on the host.
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatch(new RegExp(`^root +${pid} +\\d+ .* sleep 60$`));
      // ps's own options; the columns are docker top's, at least 20 wide.
      const own = docker(['top', 'top-box', '-o', 'pid,comm']);
      expect(own).toEqual({ status: 0, stdout: `PID                 COMMAND\n${pid.padEnd(20)}sleep\n`, stderr: '' });
      expect(tsrun(testDaemon.root, ['top', 'top-box', '-o', 'pid,comm']).stdout).toBe(own.stdout);
      expect(docker(['top', 'top-stopped'])).toMatchObject({ status: 1, stderr: `Error response from daemon: Container ${id} is not running\n` });
      expect(docker(['top', 'nosuch'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: No such container: nosuch\n' });
    } finally {
      docker(['rm', '-f', 'top-box', 'top-stopped']);
    }
  });

  it('answers docker container prune: the stopped containers the filters pick, their bytes, a destroy event each', async () => {
    const since = Math.floor(Date.now() / 1000);
    const gone = docker(['create', '--name', 'prune-gone', '--label', 'capture=1', 'tsrun-demo', 'sh', '-c', 'echo data > /file']).stdout.trim();
    expect(docker(['start', '-a', 'prune-gone']).status).toBe(0);
    expect(docker(['create', '--name', 'prune-kept', '--label', 'keep=1', 'tsrun-demo', 'true']).status).toBe(0);
    expect(docker(['run', '-d', '--name', 'prune-running', '--label', 'capture=1', 'tsrun-demo', 'sleep', '60']).status).toBe(0);
    try {
      // The one stopped container with the label; its rw layer had the file it wrote.
      const pruned = docker(['container', 'prune', '-f', '--filter', 'label=capture=1']);
      expect(pruned).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^Deleted Containers:\n${gone}\n\nTotal reclaimed space: [1-9][0-9.]*k?B\n$`)) });
      // Made within the last hour, or with keep=1: not taken.
      expect(docker(['container', 'prune', '-f', '--filter', 'until=1h'])).toMatchObject({ status: 0, stdout: 'Total reclaimed space: 0B\n' });
      expect(docker(['container', 'prune', '-f', '--filter', 'label!=keep=1'])).toMatchObject({ status: 0, stdout: 'Total reclaimed space: 0B\n' });
      expect(docker(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n').sort()).toEqual(['', 'prune-kept', 'prune-running']);
      const events = docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=destroy', '--filter', 'label=capture=1', '--format', '{{.Actor.Attributes.name}}']);
      expect(events).toMatchObject({ status: 0, stdout: 'prune-gone\n' });
      const bad = await request(testDaemon.socket, 'POST', '/v1.41/containers/prune?filters=%7B%22colour%22%3A%7B%22red%22%3Atrue%7D%7D');
      expect(bad).toMatchObject({ status: 400, body: '{"message":"Invalid filter \'colour\'"}\n' });
      const badTime = await request(testDaemon.socket, 'POST', '/v1.41/containers/prune?filters=%7B%22until%22%3A%7B%22soon%22%3Atrue%7D%7D');
      expect(badTime.status).toBe(400);
    } finally {
      docker(['rm', '-f', 'prune-gone', 'prune-kept', 'prune-running']);
    }
  });

  it('answers docker stats --no-stream with a second\'s CPU, the memory, the pids and the network, as the CLI prints them', async () => {
    expect(docker(['run', '-d', '--name', 'stats-box', 'tsrun-demo', 'sh', '-c', 'while true; do :; done']).status).toBe(0);
    const id = docker(['create', '--name', 'stats-stopped', 'tsrun-demo', 'true']).stdout.trim();
    try {
      const shown = docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}|{{.NetIO}}', 'stats-box']);
      expect(shown.status).toBe(0);
      const [name, cpu, memory, pids, net] = shown.stdout.trim().split('|');
      expect({ name, pids }).toEqual({ name: 'stats-box', pids: '1' });
      expect(parseFloat(cpu!)).toBeGreaterThan(20); // the loop keeps a CPU busy: precpu_stats is a second before
      expect(memory).toMatch(/^[\d.]+[KMG]?i?B \/ [\d.]+[KMG]iB$/);
      expect(net).toMatch(/^[\d.]+k?B \/ [\d.]+k?B$/);
      // One-shot: at once, nothing before it.
      const once = await request(testDaemon.socket, 'GET', '/v1.41/containers/stats-box/stats?stream=0&one-shot=1');
      expect(once.status).toBe(200);
      const document = JSON.parse(once.body);
      expect(document).toMatchObject({ name: '/stats-box', id: expect.stringMatching(/^[0-9a-f]{64}$/), preread: '0001-01-01T00:00:00Z', pids_stats: { current: 1 } });
      expect(document.cpu_stats.online_cpus).toBe(os.cpus().length);
      expect(document.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
      expect(document.precpu_stats).toEqual({ cpu_usage: { total_usage: 0 } });
      expect(document.memory_stats.usage).toBeGreaterThan(0);
      expect(Object.keys(document.networks)).toEqual(['eth0']);
      // Not running: its name and id, nothing measured. Not there: Docker's 404.
      const stopped = JSON.parse((await request(testDaemon.socket, 'GET', '/v1.41/containers/stats-stopped/stats?stream=0')).body);
      expect(stopped).toMatchObject({ name: '/stats-stopped', id, read: '0001-01-01T00:00:00Z', memory_stats: {} });
      expect(docker(['stats', '--no-stream', 'nosuch'])).toMatchObject({ status: 1, stderr: expect.stringContaining('No such container: nosuch') });
    } finally {
      docker(['rm', '-f', 'stats-box', 'stats-stopped']);
    }
  });

  it('streams docker stats, an object a second, each with the one before as its precpu_stats', async () => {
    expect(docker(['run', '-d', '--name', 'stream-box', 'tsrun-demo', 'sleep', '60']).status).toBe(0);
    try {
      // The API: three objects, then the client goes.
      const objects = await new Promise<Array<{ read: string; cpu_stats: object; precpu_stats: object }>>((resolve, reject) => {
        const timer = setTimeout(() => { req.destroy(); reject(new Error('no third object within 10 s')); }, 10_000);
        const req = http.get({ socketPath: testDaemon.socket, path: '/v1.41/containers/stream-box/stats' }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk) => {
            text += chunk;
            const lines = text.split('\n').filter(Boolean);
            if (text.endsWith('\n') && lines.length >= 3) {
              clearTimeout(timer);
              req.destroy();
              resolve(lines.map((line) => JSON.parse(line)));
            }
          });
        });
        req.on('error', () => {});
      });
      expect(objects[1]!.precpu_stats).toEqual(objects[0]!.cpu_stats);
      expect(objects[2]!.precpu_stats).toEqual(objects[1]!.cpu_stats);
      const apart = Date.parse(objects[2]!.read) - Date.parse(objects[1]!.read);
      expect(apart).toBeGreaterThanOrEqual(900);
      expect(apart).toBeLessThan(3000);
      // The CLI, streaming: its table drawn again each second, stopped after the second drawing (10 s at most).
      const cli = spawn(DOCKER, ['-H', `unix://${testDaemon.socket}`, 'stats', '--format', '{{.Name}} {{.PIDs}}', 'stream-box'], { env: testDaemon.dockerEnv() });
      let out = '';
      cli.stdout.setEncoding('utf8').on('data', (chunk) => { out += chunk; });
      try {
        await eventually(() => (out.match(/stream-box 1/g) ?? []).length >= 2, 10_000);
      } finally {
        cli.kill('SIGKILL');
      }
    } finally {
      docker(['rm', '-f', 'stream-box']);
    }
  });
});
