// `tsrun daemon` for integration tests: on a private socket with a private store, and the real docker CLI
// (`docker -H unix://SOCKET …`, a private DOCKER_CONFIG) to drive it. Nothing talks to anything but that socket.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { eventually, storeWithDemoImage, TSRUN, tsrun } from './cli.js';

export const DOCKER = '/usr/local/bin/docker';
export const COMPOSE = '/usr/bin/docker-compose'; // Debian's, 1.29: Python, through the Engine API as the CLI
export const dockerReady = process.getuid?.() === 0 && fs.existsSync(DOCKER);

/** Processes of the monitors' exit command (`tsrun container-exited`), which may finish a moment after the
 *  removal they report: the host check that follows every test must not count one that is about to go. */
export const exitCommands = () => fs.readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args[0] === process.execPath && args.includes('container-exited'); // not a monitor, whose arguments name it too
  } catch {
    return false;
  }
});

/** One request on the socket, as a client that is not the docker CLI sends it. */
export function request(socket: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => { text += chunk; }).on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface TestDaemon {
  /** Its store (TSRUN_ROOT), with the demo image loaded. */
  root: string;
  /** A temp dir of the test's own: the socket, the daemon's log, the CLI's config. */
  dir: string;
  socket: string;
  process: ChildProcess;
  /** What the daemon wrote on stderr so far: a line per request. */
  log(): string;
  /** The daemon writes a request's line once it has answered, which may be a moment after the client has read the
   *  answer and exited: its log is given up to 5 s to show `pattern`. */
  expectLogged(pattern: RegExp): void;
  /** The docker CLI on this daemon's socket, killed after 30 s. */
  docker(args: string[], input?: string, env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  /** The environment the CLI runs with (for a CLI the test spawns itself). */
  dockerEnv(): NodeJS.ProcessEnv;
  /** SIGTERM to the daemon (if it still runs), then every container of its store and both dirs removed. */
  stop(): Promise<void>;
}

export async function startTestDaemon(label: string, flags: string[] = []): Promise<TestDaemon> {
  const root = await storeWithDemoImage(label);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-daemon-'));
  const socket = path.join(dir, 'tsrun.sock');
  const logFile = path.join(dir, 'daemon.log');
  const out = fs.openSync(logFile, 'w');
  const daemon = spawn(process.execPath, [TSRUN, 'daemon', '--host', `unix://${socket}`, ...flags], { env: { ...process.env, TSRUN_ROOT: root }, stdio: ['ignore', 'ignore', out] });
  fs.closeSync(out);
  await eventually(() => fs.existsSync(socket));
  const log = () => fs.readFileSync(logFile, 'utf8');
  const dockerEnv = () => ({ ...process.env, DOCKER_CONFIG: path.join(dir, 'docker-config') });
  return {
    root, dir, socket, process: daemon, log, dockerEnv,
    expectLogged(pattern) {
      const deadline = Date.now() + 5_000;
      while (!pattern.test(log()) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      expect(log()).toMatch(pattern);
    },
    docker(args, input, env = {}) {
      const result = spawnSync(DOCKER, ['-H', `unix://${socket}`, ...args], {
        // SIGKILL at the end of the time: the CLI would pass a SIGTERM on to the container, and wait on.
        encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', input, env: { ...dockerEnv(), ...env },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    async stop() {
      if (daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        await new Promise((resolve) => daemon.once('exit', resolve));
      }
      const left = tsrun(root, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (left.length > 0) tsrun(root, ['rm', '-f', ...left]);
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
