// `tsrun` as a client of `tsrun daemon`, as root: with TSRUN_HOST (or --host, or DOCKER_HOST) naming the daemon's
// socket, the commands go through it and print what they print without it, with the same exit codes. The daemon
// and the daemonless commands share one private store, so each answer can be set beside the other; nothing here
// talks to anything but the test's socket.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, tsrun, TSRUN, type CliResult } from '../helpers/cli.js';
import { exitCommands, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

describe.skipIf(process.getuid?.() !== 0)('tsrun as a client of tsrun daemon (as root)', () => {
  let testDaemon: TestDaemon;
  /** No daemon named, whatever this environment has. */
  const daemonless = (args: string[], input?: string): CliResult => tsrun(testDaemon.root, args, { input, env: { TSRUN_HOST: '', DOCKER_HOST: '' } });
  const viaDaemon = (args: string[], input?: string, env: Record<string, string> = { TSRUN_HOST: `unix://${testDaemon.socket}` }): CliResult =>
    tsrun(testDaemon.root, args, { input, env: { TSRUN_HOST: '', DOCKER_HOST: '', ...env } });
  const removeAll = (...names: string[]) => daemonless(['rm', '-f', ...names]);

  beforeAll(async () => {
    testDaemon = await startTestDaemon('client');
  });
  afterEach(async () => {
    await eventually(() => exitCommands().length === 0);
  });
  afterAll(() => testDaemon.stop());

  it('runs a container in the foreground through the daemon: its output and exit code as tsrun run gives them', () => {
    const cases = [
      ['run', '--rm', 'tsrun-demo', 'echo', 'hi'],
      ['run', '--rm', 'tsrun-demo', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
      ['run', '--rm', 'tsrun-demo', 'no-such-command'], // 127
      ['run', '--rm', 'tsrun-demo', '/etc/passwd'], // 126
      ['run', '--rm', '-e', 'GREETING=hello', '--network', 'none', 'tsrun-demo', 'sh', '-c', 'echo $GREETING; ls /sys/class/net'],
    ];
    for (const args of cases) {
      const through = viaDaemon(args);
      expect(through, args.join(' ')).toEqual(daemonless(args));
    }
    expect(viaDaemon(cases[1]!).status).toBe(3);
    expect(viaDaemon(cases[2]!).status).toBe(127);
    expect(viaDaemon(cases[3]!).status).toBe(126);
    // Made by the daemon: its log has the docker CLI's requests, in its order.
    testDaemon.expectLogged(/POST \/v1\.41\/containers\/create 201 .*\n(.*\n)*POST \/v1\.41\/containers\/\w+\/attach\?stream=1&stdout=1&stderr=1 101 /);
    testDaemon.expectLogged(/POST \/v1\.41\/containers\/\w+\/start 400 /);
    expect(daemonless(['ps', '-aq']).stdout).toBe(''); // --rm: all gone, the failed starts too
  });

  it('gives 125 when the daemon refuses, before anything runs, as without a daemon', () => {
    for (const args of [['run', '--rm', '--pull', 'never', 'no-such-image'], ['run', '--rm', '--name', 'bad name!', 'tsrun-demo', 'true'], ['run', '--rm', '-p', '80:99999', 'tsrun-demo']]) {
      const through = viaDaemon(args);
      expect(through.status, args.join(' ')).toBe(125);
      expect(daemonless(args).status).toBe(125);
      expect(through.stderr).toMatch(/^tsrun: /);
    }
    expect(viaDaemon(['run', '--rm', '-p', '80:99999', 'tsrun-demo']).stderr).toBe(daemonless(['run', '--rm', '-p', '80:99999', 'tsrun-demo']).stderr);
    expect(daemonless(['ps', '-aq']).stdout).toBe('');
  });

  it('sends piped stdin with -i, named by --host, and binds a host directory with -v', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-client-bind-'));
    try {
      fs.writeFileSync(path.join(dir, 'note'), 'from the host\n');
      const flag = viaDaemon(['--host', `unix://${testDaemon.socket}`, 'run', '--rm', '-i', '-v', `${dir}:/mnt:ro`, 'tsrun-demo', 'sh', '-c', 'cat; cat /mnt/note'], 'piped in\n', {});
      expect(flag).toEqual({ status: 0, stdout: 'piped in\nfrom the host\n', stderr: '' });
      testDaemon.expectLogged(/POST \/v1\.41\/containers\/\w+\/attach\?stream=1&stdout=1&stderr=1&stdin=1 101 /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives -t (run and exec) a terminal the size of this one, raw both ways, through the daemon', () => {
    // The size is sent just after the start: a command may be quicker (2 s at most).
    const untilSize = 'for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(stty size)" = "30 100" ] && break; sleep 0.2; done';
    const onTerminal = (env: string, command: string) => spawnSync('script', ['-eqc', `stty rows 30 cols 100; ${env} ${process.execPath} ${TSRUN} ${command}`, '/dev/null'], {
      encoding: 'utf8', input: 'typed\n', timeout: 30_000, killSignal: 'SIGKILL', env: { ...process.env, TSRUN_ROOT: testDaemon.root, TSRUN_HOST: '', DOCKER_HOST: '' },
    });
    const daemon = `TSRUN_HOST=unix://${testDaemon.socket}`;
    const run = `run --rm -it tsrun-demo sh -c 'read line; ${untilSize}; tty; stty size; echo "got $line"; exit 5'`;
    const through = onTerminal(daemon, run);
    expect(through.status).toBe(5);
    // script's own terminal, which tsrun makes raw only for reading, adds its CR to the container's CR LF.
    expect(through.stdout).toMatch(/\/dev\/pts\/\d+\r+\n30 100\r+\ngot typed\r+\n/);
    testDaemon.expectLogged(/POST \/v1\.41\/containers\/\w+\/resize\?h=30&w=100 200 /);
    expect(onTerminal('', run).status).toBe(5);
    try {
      expect(viaDaemon(['run', '-d', '--name', 'client-tty', 'tsrun-demo', 'sleep', '30']).status).toBe(0);
      const exec = onTerminal(daemon, `exec -it client-tty sh -c 'read line; ${untilSize}; stty size; echo "got $line"; exit 7'`);
      expect(exec.status).toBe(7);
      expect(exec.stdout).toMatch(/30 100\r+\ngot typed\r+\n/);
      testDaemon.expectLogged(/POST \/v1\.41\/exec\/\w+\/resize\?h=30&w=100 200 /);
      expect(onTerminal(daemon, 'exec -t client-tty no-such-command').status).toBe(127);
    } finally {
      removeAll('client-tty');
    }
    expect(daemonless(['ps', '-aq']).stdout).toBe('');
  });

  it('runs one in the background: -d, then ps, logs, exec, inspect, stop and rm through the daemon', () => {
    const docker = { DOCKER_HOST: `unix://${testDaemon.socket}` }; // DOCKER_HOST names it as well as TSRUN_HOST
    try {
      const started = viaDaemon(['run', '-d', '--name', 'client-bg', '-p', '80', '-e', 'FOO=bar', 'tsrun-demo', 'sh', '-c', 'echo $FOO; echo err >&2; sleep 30'], undefined, docker);
      expect(started.status).toBe(0);
      expect(started.stdout).toMatch(/^[0-9a-f]{64}\n$/);
      testDaemon.expectLogged(/POST \/v1\.41\/containers\/create\?name=client-bg 201 /);
      // The same rows as without a daemon (STATUS aside, which may tick a second between the two).
      const rows = ['ps', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Ports}} {{.Names}} {{.State}}'];
      expect(viaDaemon(rows)).toEqual(daemonless(rows));
      expect(viaDaemon(rows).stdout).toMatch(/^[0-9a-f]{12} tsrun-demo "sh -c echo \$FOO; ec…" 0\.0\.0\.0:\d+->80\/tcp client-bg running\n$/);
      expect(viaDaemon(['ps', '-q'])).toEqual(daemonless(['ps', '-q']));
      expect(viaDaemon(['images'])).toEqual(daemonless(['images']));

      let logs: CliResult | undefined;
      for (let i = 0; i < 50 && !logs?.stderr; i++) logs = viaDaemon(['logs', 'client-bg']);
      expect(logs).toEqual({ status: 0, stdout: 'bar\n', stderr: 'err\n' });
      expect(viaDaemon(['logs', 'client-bg'])).toEqual(daemonless(['logs', 'client-bg']));

      const exec = ['exec', 'client-bg', 'sh', '-c', 'echo in; echo oops >&2; exit 4'];
      expect(viaDaemon(exec)).toEqual({ status: 4, stdout: 'in\n', stderr: 'oops\n' });
      expect(daemonless(exec).status).toBe(4);
      expect(viaDaemon(['exec', '-i', 'client-bg', 'cat'], 'to exec\n')).toMatchObject({ status: 0, stdout: 'to exec\n' });
      expect(viaDaemon(['exec', 'client-bg', 'no-such-command']).status).toBe(127);

      const inspect = ['inspect', '-f', '{{.Name}} {{.State.Status}} {{.Config.Env}}', 'client-bg'];
      expect(viaDaemon(inspect)).toEqual(daemonless(inspect));
      expect(viaDaemon(['inspect', 'no-such-thing']).status).toBe(125);

      expect(viaDaemon(['stop', '-t', '1', 'client-bg'])).toEqual({ status: 0, stdout: 'client-bg\n', stderr: '' });
      testDaemon.expectLogged(/POST \/v1\.41\/containers\/client-bg\/stop\?t=1 204 /);
      expect(viaDaemon(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^client-bg Exited \(\d+\) /);
      expect(viaDaemon(['rm', 'client-bg'])).toEqual({ status: 0, stdout: 'client-bg\n', stderr: '' });
      expect(daemonless(['ps', '-aq']).stdout).toBe('');
    } finally {
      removeAll('client-bg');
    }
  });

  it('creates, starts (attached too), waits for, renames, pauses and restarts through the daemon', () => {
    try {
      const created = viaDaemon(['create', '--name', 'client-made', 'tsrun-demo', 'sh', '-c', 'echo made; echo err >&2; exit 6']);
      expect(created.stdout).toMatch(/^[0-9a-f]{64}\n$/);
      testDaemon.expectLogged(/POST \/v1\.41\/containers\/create\?name=client-made 201 /);
      expect(viaDaemon(['start', '-a', 'client-made'])).toEqual({ status: 6, stdout: 'made\n', stderr: 'err\n' });
      expect(viaDaemon(['start', '-a', 'client-made'])).toEqual(daemonless(['start', '-a', 'client-made']));
      expect(viaDaemon(['start', 'client-made'])).toEqual({ status: 0, stdout: 'client-made\n', stderr: '' });
      expect(viaDaemon(['wait', 'client-made'])).toEqual({ status: 0, stdout: '6\n', stderr: '' });
      expect(viaDaemon(['rename', 'client-made', 'client-renamed']).status).toBe(0);
      // The limits reach the daemon as tsrun create keeps them.
      const limits = ['--memory', '64m', '--cpus', '1.5', '--pids-limit', '50', '--log-opt', 'max-size=1m', 'tsrun-demo', 'true'];
      expect(viaDaemon(['create', '--name', 'client-limits', ...limits]).status).toBe(0);
      expect(daemonless(['create', '--name', 'client-limits-here', ...limits]).status).toBe(0);
      const hostConfig = (name: string) => daemonless(['inspect', '-f', '{{json .HostConfig}}', name]).stdout;
      expect(hostConfig('client-limits')).toBe(hostConfig('client-limits-here'));
      expect(JSON.parse(hostConfig('client-limits'))).toMatchObject({ Memory: 67108864, NanoCpus: 1500000000, PidsLimit: 50 });
      removeAll('client-limits', 'client-limits-here');
      expect(daemonless(['ps', '-a', '--format', '{{.Names}}']).stdout).toBe('client-renamed\n');

      expect(viaDaemon(['run', '-d', '--name', 'client-paused', 'tsrun-demo', 'sleep', '30']).status).toBe(0);
      expect(viaDaemon(['start', 'client-paused'])).toEqual(daemonless(['start', 'client-paused'])); // running already: 125 both
      expect(viaDaemon(['pause', 'client-paused'])).toEqual({ status: 0, stdout: 'client-paused\n', stderr: '' });
      expect(daemonless(['ps', '--format', '{{.Names}} {{.State}}']).stdout).toBe('client-paused paused\n');
      expect(viaDaemon(['unpause', 'client-paused']).stdout).toBe('client-paused\n');
      expect(viaDaemon(['restart', '-t', '1', 'client-paused'])).toEqual({ status: 0, stdout: 'client-paused\n', stderr: '' });
      testDaemon.expectLogged(/POST \/v1\.41\/containers\/client-paused\/restart\?t=1 204 /);
      expect(daemonless(['ps', '--format', '{{.Names}} {{.State}}']).stdout).toBe('client-paused running\n');
    } finally {
      removeAll('client-made', 'client-renamed', 'client-paused', 'client-limits', 'client-limits-here');
    }
  });

  it('kills and force-removes through the daemon, and rm of what is not there fails as without one', () => {
    try {
      expect(viaDaemon(['run', '-d', '--name', 'client-kill', 'tsrun-demo', 'sleep', '30']).status).toBe(0);
      expect(viaDaemon(['kill', 'client-kill'])).toEqual({ status: 0, stdout: 'client-kill\n', stderr: '' });
      expect(viaDaemon(['run', '-d', '--name', 'client-rmf', 'tsrun-demo', 'sleep', '30']).status).toBe(0);
      expect(viaDaemon(['rm', '-f', 'client-rmf', 'client-kill'])).toEqual({ status: 0, stdout: 'client-rmf\nclient-kill\n', stderr: '' });
      testDaemon.expectLogged(/DELETE \/v1\.41\/containers\/client-rmf\?force=1 204 /);
      expect(viaDaemon(['rm', 'no-such-container']).status).toBe(daemonless(['rm', 'no-such-container']).status);
    } finally {
      removeAll('client-kill', 'client-rmf');
    }
  });

  it('says which commands run without a daemon only, and refuses --explain through one', () => {
    const network = viaDaemon(['network', 'ls']);
    expect(network.status).toBe(125);
    expect(network.stderr).toMatch(/^tsrun: tsrun network runs without a daemon only, .* unset TSRUN_HOST and DOCKER_HOST/);
    const explain = viaDaemon(['run', '--rm', '--explain', 'tsrun-demo', 'true']);
    expect(explain.status).toBe(125);
    expect(explain.stderr).toMatch(/--explain and --step .* unset TSRUN_HOST/);
    expect(daemonless(['ps', '-aq']).stdout).toBe('');
  });

  it('takes --host before TSRUN_HOST, and TSRUN_HOST before DOCKER_HOST', () => {
    const nowhere = `unix://${testDaemon.dir}/nothing-here.sock`;
    const flag = viaDaemon(['--host', nowhere, 'ps']);
    expect(flag.status).toBe(125);
    expect(flag.stderr).toContain(`cannot connect to the daemon at ${nowhere}`);
    expect(viaDaemon(['ps', '-q'], undefined, { TSRUN_HOST: `unix://${testDaemon.socket}`, DOCKER_HOST: nowhere }).status).toBe(0);
    expect(viaDaemon(['ps', '-q'], undefined, { TSRUN_HOST: nowhere, DOCKER_HOST: `unix://${testDaemon.socket}` }).status).toBe(125);
  });
});
