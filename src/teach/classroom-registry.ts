// `tsrun lab registry start|stop|status`: a real registry for a classroom with
// no internet. It is Debian's docker-registry (the CNCF distribution server,
// the same code as Docker Hub's open-source registry), listening on this
// machine's loopback, its storage under tsrun's state directory. On start,
// tsrun builds its demo images from the host's busybox-static and pushes them
// with its own `push`, so `tsrun run 127.0.0.1:5000/tsrun-demo` pulls for real.
//
//   <root>/classroom-registry/config.yml   written by tsrun
//   <root>/classroom-registry/data/        the registry's blobs and manifests (kept across restarts)
//   <root>/classroom-registry/registry.log
//   <run root>/classroom-registry.json     { pid, address } while it runs
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { StorePaths } from '../store/paths.js';
import { makeStagingDir } from '../store/atomic.js';
import { findImage, saveImage } from '../store/images.js';
import { parseReference } from '../image/reference.js';
import { buildDemoImage, buildLayersImage, DEMO_REPOSITORY, LAYERS_REPOSITORY } from '../image/demo.js';
import { loadImages } from '../store/load.js';
import { pushImage } from '../registry/push.js';

export const DEFAULT_PORT = 5000;
const READY_WITHIN_MS = 10_000;
const STOPPED_WITHIN_MS = 5_000;

export interface RegistryState {
  pid: number;
  /** "127.0.0.1:5000": the registry part of the seeded images' names. */
  address: string;
}

export interface RegistryStatus {
  running: RegistryState | undefined;
  /** "repository:tag" for every image the registry holds (empty when it is not running). */
  images: string[];
  dataDir: string;
}

/** The images a classroom gets: each built by tsrun, under one or more names. library/busybox is where
 *  a pull of plain `busybox` looks when this registry is listed under "registry-mirrors". */
const SEEDS = [
  { build: buildDemoImage, repository: DEMO_REPOSITORY, names: [`${DEMO_REPOSITORY}:latest`, 'busybox:latest', 'library/busybox:latest'] },
  { build: buildLayersImage, repository: LAYERS_REPOSITORY, names: [`${LAYERS_REPOSITORY}:latest`] },
];

const dirOf = (paths: StorePaths) => path.join(paths.root, 'classroom-registry');
const stateFile = (paths: StorePaths) => path.join(paths.runRoot, 'classroom-registry.json');

// #region start
/** Start the registry (if it is not running already) and push the demo images into it. */
export async function startClassroomRegistry(runtime: Runtime, options: { port?: number; say?: (line: string) => void } = {}): Promise<RegistryState> {
  const say = options.say ?? (() => {});
  const already = runningRegistry(runtime.paths);
  if (already) {
    say(`The classroom registry is already running at ${already.address} (pid ${already.pid}).`);
    return already;
  }
  const port = options.port ?? DEFAULT_PORT;
  const address = `127.0.0.1:${port}`;
  // Checked first: another server on the port would answer for ours, and we would seed it instead.
  if (!(await portIsFree(port))) throw fail(`${address} is in use by another program`, 'choose another port with --port');
  const dir = dirOf(runtime.paths);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.yml'), registryConfig(dir, address));

  // Its own session (detached), so it outlives this command and a Ctrl-C in this terminal.
  const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
  const server = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const spawned = new Promise<void>((resolve, reject) => {
    server.once('spawn', resolve);
    server.once('error', (error) => reject(fail(`cannot start docker-registry: ${error.message}`, 'install it with `apt-get install docker-registry` (scripts/install.sh does)', error)));
  });
  await spawned;
  server.unref();
  const state: RegistryState = { pid: server.pid!, address };
  try {
    await waitUntilServing(state, path.join(dir, 'registry.log'));
    fs.mkdirSync(runtime.paths.runRoot, { recursive: true });
    fs.writeFileSync(stateFile(runtime.paths), JSON.stringify(state));
    say(`Started the classroom registry at ${address} (pid ${state.pid}); its data is in ${path.join(dir, 'data')}.`);
    await seed(runtime, address, say);
  } catch (error) {
    await stopProcess(state.pid);
    fs.rmSync(stateFile(runtime.paths), { force: true });
    throw error;
  }
  return state;
}
// #endregion

// #region seed
/** Build each demo image, load it into a scratch store, and push it from there under each of its names. */
async function seed(runtime: Runtime, address: string, say: (line: string) => void): Promise<void> {
  const scratch = makeStagingDir(path.join(runtime.paths.root, 'tmp'), 'classroom-seed');
  const scratchPaths: StorePaths = { root: scratch, runRoot: path.join(scratch, 'run') };
  try {
    for (const image of SEEDS) {
      const layout = path.join(scratch, `${image.repository}-layout`);
      await image.build(layout);
      const [loaded] = await loadImages(runtime.sys, scratchPaths, layout);
      for (const name of image.names) {
        const target = parseReference(`${address}/${name}`);
        await saveImage(runtime.sys, scratchPaths, { ...findImage(scratchPaths, loaded!.id)!, repoTags: [target.canonical], repoDigests: [] });
        const pushed = await pushImage(runtime.sys, scratchPaths, target);
        say(`  pushed ${address}/${name} (${pushed.digest})`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
// #endregion

/** Stop the registry if it runs; its data stays for the next start. Returns what was stopped. */
export async function stopClassroomRegistry(paths: StorePaths): Promise<RegistryState | undefined> {
  const state = runningRegistry(paths);
  if (state) await stopProcess(state.pid);
  fs.rmSync(stateFile(paths), { force: true });
  return state;
}

export async function classroomRegistryStatus(paths: StorePaths): Promise<RegistryStatus> {
  const running = runningRegistry(paths);
  return { running, images: running ? await listImagesIn(running.address) : [], dataDir: path.join(dirOf(paths), 'data') };
}

/** The registry the state file names, if that process is still a docker-registry (a pid can be reused). */
function runningRegistry(paths: StorePaths): RegistryState | undefined {
  let state: RegistryState;
  try {
    state = JSON.parse(fs.readFileSync(stateFile(paths), 'utf8')) as RegistryState;
  } catch {
    return undefined;
  }
  try {
    return fs.readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes('docker-registry') ? state : undefined;
  } catch {
    return undefined;
  }
}

function registryConfig(dir: string, address: string): string {
  return [
    '# Written by tsrun lab registry start. The registry of the CNCF distribution project, on loopback only.',
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    '',
  ].join('\n');
}

/** Until GET /v2/ answers, the registry is not ready; if it exits first, its log says why. */
async function waitUntilServing(state: RegistryState, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (!isAlive(state.pid)) {
      const log = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n');
      throw fail(`docker-registry exited at once:\n${log}`, `if ${state.address} is in use, choose another port with --port`);
    }
    if ((await get(`http://${state.address}/v2/`).catch(() => undefined))?.status === 200) return;
    await sleep(100);
  }
  throw fail(`docker-registry did not answer at ${state.address} within ${READY_WITHIN_MS / 1000} s`, `see ${logFile}`);
}

async function listImagesIn(address: string): Promise<string[]> {
  const catalog = JSON.parse((await get(`http://${address}/v2/_catalog`)).body) as { repositories?: string[] };
  const images: string[] = [];
  for (const repository of catalog.repositories ?? []) {
    const tags = JSON.parse((await get(`http://${address}/v2/${repository}/tags/list`)).body) as { tags?: string[] | null };
    for (const tag of tags.tags ?? []) images.push(`${repository}:${tag}`);
  }
  return images;
}

async function stopProcess(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOPPED_WITHIN_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Alive and not a zombie: the registry is our child only while `start` runs. */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) { this.destroy(new Error('timed out')); });
  });
}
