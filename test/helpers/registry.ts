// A real registry for tests: Debian's docker-registry (the CNCF distribution
// server) on a free loopback port, its storage in a temp dir. One per test
// file: start it in beforeAll, stop it in afterAll (which also removes the dir).
// Images go in with skopeo, as they would from any other tool.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './images.js';

export interface TestRegistry {
  /** "127.0.0.1:PORT": the registry part of a reference. */
  host: string;
  /** Copy an OCI layout's image into the registry as NAME:TAG (skopeo copy). */
  push(layout: string, layoutTag: string, nameAndTag: string, options?: { format?: 'oci' | 'v2s2'; all?: boolean }): void;
  stop(): Promise<void>;
}

/** Start a registry; with `htpasswd`, it demands Basic auth from that user. */
export async function startRegistry(options: { htpasswd?: { username: string; password: string } } = {}): Promise<TestRegistry> {
  const dir = tempDir('registry');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const auth = options.htpasswd
    ? ['auth:', '  htpasswd:', '    realm: tsrun-test', `    path: ${path.join(dir, 'htpasswd')}`]
    : [];
  if (options.htpasswd) {
    const line = execFileSync('htpasswd', ['-Bbn', options.htpasswd.username, options.htpasswd.password], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dir, 'htpasswd'), line.trim() + '\n');
  }
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:',
    '  level: error',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    'http:',
    `  addr: ${host}`,
    ...auth,
  ].join('\n') + '\n');

  const server: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000).then(() => server.kill('SIGKILL'))]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, server, () => log);
  } catch (error) {
    await stop();
    throw error;
  }

  const credentials = options.htpasswd ? ['--dest-creds', `${options.htpasswd.username}:${options.htpasswd.password}`] : [];
  return {
    host,
    push(layout, layoutTag, nameAndTag, pushOptions = {}) {
      const format = pushOptions.format ? ['--format', pushOptions.format] : [];
      const all = pushOptions.all ? ['--all'] : [];
      execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...credentials, ...format, ...all,
        `oci:${layout}:${layoutTag}`, `docker://${host}/${nameAndTag}`], { stdio: 'pipe' });
    },
    stop,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Until the registry accepts connections: at most 10 s. */
async function waitForPort(port: number, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`docker-registry exited (${server.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`docker-registry did not listen on 127.0.0.1:${port} within 10 s: ${log()}`);
}
