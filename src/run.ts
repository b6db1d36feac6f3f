// The pipeline of `tsrun run`, in the order a run takes it:
//
//   1 pull → 2 create → 3 rw layer → 4 network → 5 namespaces → 6 exec
//
// Each stage is one function in src/stages/, run here inside its span
// (`tsrun.<stage>`) and between the observer's two calls (--explain, --step).
// What happens to the container's record around them (who owns a start, how
// its exit is written down, what is released) is src/containers/lifecycle.ts.
import type { ContainerRecord, DetachedStart, ExecIO, ExitRecord, RunObserver, RunRequest, StageName } from './container.js';
import type { Runtime } from './runtime.js';
import type { Attributes } from '@opentelemetry/api';
import { processStartTime } from './kernel/proc.js';
import { pull, type PullStageOptions } from './stages/pull.js';
import { create } from './stages/create.js';
import { rwlayer } from './stages/rwlayer.js';
import { handOverNetwork, network } from './stages/network.js';
import { namespaces } from './stages/namespaces.js';
import { exec, execDetached } from './stages/exec.js';
import { claim, recordExit, recordFailedStart, releaseContainer } from './containers/lifecycle.js';
import { reconcile } from './containers/reconcile.js';
import { listContainers } from './store/containers.js';
import type { ImageRecord } from './store/images.js';
import { inSpan } from './trace/span.js';
import { faultPoint } from './faults.js';

export interface RunOptions {
  io?: ExecIO;
  observer?: RunObserver;
}

// #region pipeline
/** `tsrun run`: all six stages, then the container's exit code. */
export async function run(runtime: Runtime, request: RunRequest, options: RunOptions = {}): Promise<ExitRecord> {
  const container = await createContainer(runtime, request, options);
  return start(runtime, container, options);
}

/** `tsrun create`, and the first two stages of every run. */
export async function createContainer(runtime: Runtime, request: RunRequest, options: RunOptions = {}): Promise<ContainerRecord> {
  const stage = stages(options.observer);
  await freeName(runtime, request.name);
  const image = await stage('pull', {}, () => pull(runtime, request.image, { policy: request.pull }));
  const container = await stage('create', {}, () => create(runtime, image, request));
  faultPoint('create');
  return container;
}

/** Start a created or stopped container and wait for it: the four stages after `create`. */
export async function start(runtime: Runtime, created: ContainerRecord, options: RunOptions = {}): Promise<ExitRecord> {
  const stage = stages(options.observer);
  const container = claim(runtime, created);
  try {
    const { rootfs, ns } = await prepare(runtime, container, stage);
    const exit = await stage('exec', execAttributes(container), () => exec(runtime, container, rootfs, ns, options.io, options.observer));
    recordExit(runtime, container, exit);
    return exit;
  } catch (error) {
    recordFailedStart(runtime, container, error);
    throw error;
  } finally {
    await releaseContainer(runtime, container);
  }
}

/** Stages 3 to 5: everything the container's process needs before it exists. */
async function prepare(runtime: Runtime, container: ContainerRecord, stage: Stages) {
  const rootfs = await stage('rwlayer', { 'container.id': container.id }, () => rwlayer(runtime, container));
  faultPoint('rwlayer');
  const net = await stage('network', { 'container.id': container.id }, () => network(runtime, container));
  faultPoint('network');
  const ns = await stage('namespaces', { 'container.id': container.id }, () => namespaces(runtime, container, rootfs, net));
  faultPoint('namespaces');
  return { rootfs, net, ns };
}
// #endregion

// #region detached
/** `tsrun run -d`: create, then start in the background. */
export async function runDetached(runtime: Runtime, request: RunRequest, options: RunOptions = {}): Promise<{ container: ContainerRecord; started: DetachedStart }> {
  const container = await createContainer(runtime, request, options);
  return { container, started: await startDetached(runtime, container, options) };
}

/** `run -d`, `start`, a restart: the same stages, but tsrun-monitor becomes the container's parent and tsrun
 *  returns once the command runs. The monitor's exit command releases what the container held (restart.ts). */
export async function startDetached(runtime: Runtime, created: ContainerRecord, options: RunOptions = {}): Promise<DetachedStart> {
  const stage = stages(options.observer);
  const container = claim(runtime, created);
  try {
    const { rootfs, ns } = await prepare(runtime, container, stage);
    const started = await stage('exec', { ...execAttributes(container), 'tsrun.detached': true }, () => execDetached(runtime, container, rootfs, ns));
    // The address is the container's now, not this tsrun's: it stays while the container runs.
    await handOverNetwork(runtime, container, { pid: started.pid, startTime: processStartTime(started.pid) });
    return started;
  } catch (error) {
    recordFailedStart(runtime, container, error);
    await releaseContainer(runtime, container);
    throw error;
  }
}
// #endregion

/** `tsrun pull`: the first stage alone. */
export async function pullImage(runtime: Runtime, reference: string, options: PullStageOptions): Promise<ImageRecord> {
  return stages(undefined)('pull', {}, () => pull(runtime, reference, options));
}

type Stages = ReturnType<typeof stages>;

/** Each stage's span, as a trace names it. */
const SPANS: Record<StageName, string> = {
  pull: 'tsrun.pull',
  create: 'tsrun.create',
  rwlayer: 'tsrun.rwlayer',
  network: 'tsrun.network',
  namespaces: 'tsrun.namespaces',
  exec: 'tsrun.exec',
};

/** Runs a stage in its span, between the observer's two calls (no-ops without an observer).
 *  The observer is told before the span opens: --step's wait for Enter is not part of the stage. */
function stages(observer: RunObserver | undefined) {
  return async <T>(name: StageName, attributes: Attributes, work: () => Promise<T>): Promise<T> => {
    await observer?.stageStarting?.(name);
    const started = performance.now();
    const result = await inSpan(SPANS[name], attributes, work);
    observer?.stageFinished?.(name, result, performance.now() - started);
    return result;
  };
}

function execAttributes(container: ContainerRecord): Attributes {
  return { 'container.id': container.id, 'process.command_args': container.config.argv };
}

/** A name asked for may be held by a --rm container whose tsrun was killed: reconciled, it is free again. */
async function freeName(runtime: Runtime, name: string | undefined): Promise<void> {
  const holder = name === undefined ? undefined : listContainers(runtime.paths).find((container) => container.name === name);
  if (holder) await reconcile(runtime, holder);
}
