// The containers endpoints. Each is a call into what `tsrun`'s own commands call (src/run.ts, src/containers/);
// what is left here is the API's side: finding the container the path names, Docker's status codes and words.
import { VALID_NAME, isUp, type ContainerRecord } from '../container.js';
import { createContainer } from '../run.js';
import { findContainer, listContainers, renameContainer } from '../store/containers.js';
import { findImage } from '../store/images.js';
import { familiarString, parseReference } from '../image/reference.js';
import { reconcile } from '../containers/reconcile.js';
import { killContainer, pauseContainer, stopContainer, stopToRestart, unpauseContainer } from '../containers/stop.js';
import { removeContainer } from '../containers/remove.js';
import { resizeTerminal } from '../containers/attach.js';
import { containerDocument } from '../containers/inspect.js';
import { containerTop } from '../containers/top.js';
import { pruneContainers } from '../containers/prune.js';
import { labelsMatch, timestampValue } from '../docker/filters.js';
import { createRequest } from './create-body.js';
import {
  asBadRequest, badRequest, conflict, endJson, filtersIn, messageOf, notFound, queryFlag, readJsonBody, sendEmpty, sendJson, type DaemonRequest,
} from './http.js';

/** The container the path names ({id}: a name, an id or an id's prefix), as it is now; Docker's 404 if none. */
export async function lookUp({ runtime, params }: Pick<DaemonRequest, 'runtime' | 'params'>): Promise<ContainerRecord> {
  const found = await asBadRequest(() => findContainer(runtime.paths, params.id!)); // an ambiguous prefix
  const container = found && await reconcile(runtime, found);
  if (!container) throw notFound(`No such container: ${params.id}`);
  return container;
}

// #region create
/** POST /containers/create?name=N: the body becomes a RunRequest (create-body.ts), and the request a container,
 *  by the pipeline's first two stages, as `tsrun create` makes one. */
export async function create(request: DaemonRequest): Promise<void> {
  const { runtime, req, res, query } = request;
  const wanted = await createRequest(await readJsonBody(req), query.get('name'));
  // 404 is what makes `docker run` pull the image (POST /images/create) and ask again.
  if (!findImage(runtime.paths, wanted.image)) {
    const reference = await asBadRequest(() => parseReference(wanted.image));
    throw notFound(`No such image: ${familiarString(reference)}`);
  }
  if (wanted.name !== undefined) await refuseTakenName(request, wanted.name);
  const container = await asBadRequest(() => createContainer(runtime, wanted));
  request.events.container('create', container);
  sendJson(res, 201, { Id: container.id, Warnings: [] });
}
// #endregion

/** Docker's 409, in its words. */
async function refuseTakenName({ runtime }: DaemonRequest, name: string): Promise<void> {
  const holder = listContainers(runtime.paths).find((container) => container.name === name);
  // A --rm container whose owner was killed holds its name until reconciled.
  if (holder && await reconcile(runtime, holder)) {
    throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}

// #region start
/** POST /containers/{id}/start: in the background, its monitor its parent, as `tsrun start` does. A command that
 *  cannot run is a 400 whose words (`executable file not found`, `permission denied`) make `docker run` exit 127
 *  or 126. */
export async function start(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (isUp(container.state)) return sendEmpty(request.res, 304); // started already: not an error to the CLI
  await request.runs.start(container);
  sendEmpty(request.res, 204);
}
// #endregion

// #region wait
/** POST /containers/{id}/wait?condition=…: the 200 and its headers at once, the body when the condition is met.
 *  `docker run` sends /start only once it has those headers: held back, the run never begins. */
export async function wait(request: DaemonRequest): Promise<void> {
  const condition = request.query.get('condition') || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
  const container = await lookUp(request);
  const { res, signal } = request;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  let answer: object;
  try {
    answer = { StatusCode: await exitFor(request, container, condition), Error: null };
  } catch (error) {
    if (signal.aborted) return; // the client has gone: `run -d` opens a wait and leaves it
    answer = { StatusCode: -1, Error: { Message: messageOf(error) } };
  }
  endJson(res, answer);
}
// #endregion

/** The exit code the condition waits for: of the run in progress, or else of the next one (next-exit); with
 *  `removed`, of the last run before the container is removed (a `docker run --rm`). */
async function exitFor({ runs, signal }: DaemonRequest, container: ContainerRecord, condition: string): Promise<number> {
  const current = await runs.current(container.id);
  if (condition === 'not-running') return current ? until(current.exited, signal) : container.state.exitCode ?? 0;
  if (condition === 'next-exit') {
    const run = current ?? await runs.next(container.id, signal);
    if (!run) throw new Error(`container ${container.id} was removed before it ran`);
    return until(run.exited, signal);
  }
  let code = container.state.exitCode ?? 0;
  for (let run = current; ; ) {
    if (run) code = await until(run.exited, signal);
    run = await runs.next(container.id, signal); // started again (a restart), or undefined: removed
    if (!run) return code;
  }
}

/** `work`, unless the client goes away first. */
function until<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const gone = () => reject(new Error('the client went away'));
    if (signal.aborted) return gone();
    signal.addEventListener('abort', gone, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', gone));
  });
}

/** POST /containers/{id}/stop[?t=SECONDS][&signal=SIG]: 304 if it is not running, as dockerd answers. */
export async function stop(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (!isUp(container.state)) return sendEmpty(request.res, 304);
  await asBadRequest(() => stopContainer(request.runtime, container.id, stopTimeout(request.query), request.query.get('signal') || undefined));
  sendEmpty(request.res, 204);
}

/** POST /containers/{id}/restart[?t=SECONDS]: stopped as by /stop (a stopped container is started; a --rm one is
 *  kept), then started in the background as by /start: a `docker wait` or `docker run`'s wait sees the new run. */
export async function restart(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  const seconds = stopTimeout(request.query);
  const stopped = await asBadRequest(() => stopToRestart(request.runtime, container.id, seconds));
  await request.runs.start(stopped);
  sendEmpty(request.res, 204);
}

/** ?t=: seconds before SIGKILL. Without it, dockerd's default: 10 seconds; -1 waits for as long as it takes. */
function stopTimeout(query: URLSearchParams): number {
  const t = query.get('t');
  if (t !== null && !/^-?\d+$/.test(t)) throw badRequest(`invalid value for t: "${t}"`);
  return t === null ? 10 : Number(t) < 0 ? Infinity : Number(t);
}

/** POST /containers/{id}/rename?name=NEW: 204; a name in use is Docker's 409, a bad one its 400. */
export async function rename(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  const name = (request.query.get('name') ?? '').replace(/^\//, '');
  if (name === '') throw badRequest('Neither old nor new names may be empty');
  if (!VALID_NAME.test(name)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (name === container.name) throw badRequest('Renaming a container with the same name as its current name');
  const holder = listContainers(request.runtime.paths).find((other) => other.name === name);
  if (holder) {
    throw conflict(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
  await asBadRequest(() => renameContainer(request.runtime.sys, request.runtime.paths, container.id, name));
  sendEmpty(request.res, 204);
}

/** POST /containers/{id}/pause: every process frozen by the container's cgroup (the freezer on cgroup v1,
 *  cgroup.freeze on v2), as `tsrun pause` freezes them. */
export async function pause(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (container.state.status === 'paused') throw conflict(`Container ${container.id} is already paused`);
  if (container.state.status !== 'running') throw conflict(`Container ${container.id} is not running`);
  await pauseContainer(request.runtime, container.id);
  sendEmpty(request.res, 204);
}

export async function unpause(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (container.state.status !== 'paused') throw conflict(`Container ${container.id} is not paused`);
  await unpauseContainer(request.runtime, container.id);
  sendEmpty(request.res, 204);
}

/** POST /containers/{id}/resize?h=ROWS&w=COLUMNS: a container's terminal takes the client's size (its monitor holds
 *  the terminal: src/containers/attach.ts). dockerd answers a resize of a container without a terminal with 200,
 *  doing nothing: so does tsrun. */
export async function resize(request: DaemonRequest): Promise<void> {
  checkTerminalSize(request.query);
  const container = await lookUp(request);
  if (!isUp(container.state)) throw conflict(`Container ${container.id} is not running`);
  if (container.config.tty) resizeTerminal(request.runtime, container.id, Number(request.query.get('h')), Number(request.query.get('w')));
  sendEmpty(request.res, 200);
}

/** h= (rows) and w= (columns) are whole numbers, as dockerd reads them. */
export function checkTerminalSize(query: URLSearchParams): void {
  for (const name of ['h', 'w']) {
    const text = query.get(name) ?? '';
    if (!/^\d+$/.test(text)) throw badRequest(`invalid value for ${name}: "${text}"`);
  }
}

/** POST /containers/{id}/kill[?signal=SIG]: SIGKILL unless told; the docker CLI sends every signal it gets this way. */
export async function kill(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (!isUp(container.state)) throw conflict(`Cannot kill container: ${request.params.id}: Container ${container.id} is not running`);
  await asBadRequest(() => killContainer(request.runtime, container.id, request.query.get('signal') || 'SIGKILL'));
  sendEmpty(request.res, 204);
}

/** DELETE /containers/{id}[?force=1][&v=1]: a running container only with force (killed first), as `tsrun rm -f`. */
export async function remove(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  const force = queryFlag(request.query, 'force');
  if (isUp(container.state) && !force) {
    throw conflict(`You cannot remove a running container ${container.id}. Stop the container before attempting removal or force remove`);
  }
  // Killed first, its die is told before its destroy.
  const run = isUp(container.state) ? await request.runs.current(container.id) : undefined;
  await removeContainer(request.runtime, container.id, force, queryFlag(request.query, 'v'));
  await run?.exited;
  request.events.container('destroy', container);
  sendEmpty(request.res, 204);
}

/** GET /containers/{id}/json: `tsrun inspect`'s document, which has what the CLI reads (Id, Config.Tty, HostConfig). */
export async function inspect(request: DaemonRequest): Promise<void> {
  sendJson(request.res, 200, containerDocument(request.runtime, await lookUp(request)));
}

/** GET /containers/{id}/top?ps_args=…: `tsrun top`'s table, {"Titles": […], "Processes": [[…], …]}; dockerd's 409
 *  when the container is not running. */
export async function top(request: DaemonRequest): Promise<void> {
  const container = await lookUp(request);
  if (!isUp(container.state)) throw conflict(`Container ${container.id} is not running`);
  const table = await asBadRequest(() => containerTop(container, request.query.get('ps_args') ?? ''));
  sendJson(request.res, 200, { Titles: table.titles, Processes: table.processes });
}

// #region container-prune
/** POST /containers/prune?filters=…: the stopped containers, as `tsrun system prune` removes them; dockerd's
 *  filters pick among them: until= (made before then), label= (all of these labels), label!= (not all of those). */
export async function prune(request: DaemonRequest): Promise<void> {
  const { runtime, query, res, events } = request;
  const filters = filtersIn(query, 'containers', ['until', 'label', 'label!']);
  if ((filters.until?.length ?? 0) > 1) throw badRequest('more than one until filter specified');
  const until = filters.until ? await asBadRequest(() => timestampValue(filters.until![0]!, Date.now())) : Infinity;
  const labels = (container: ContainerRecord) => container.config.labels ?? {};
  const removed = await pruneContainers(runtime, (container) => Date.parse(container.created) <= until
    && labelsMatch(filters.label ?? [], labels(container))
    && !(filters['label!'] && labelsMatch(filters['label!'], labels(container))));
  for (const { container } of removed) events.container('destroy', container);
  sendJson(res, 200, {
    ContainersDeleted: removed.map(({ container }) => container.id),
    SpaceReclaimed: removed.reduce((total, { bytes }) => total + bytes, 0),
  });
}
// #endregion
