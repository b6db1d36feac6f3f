// When a user network's name server runs. tsrun has no daemon to host one
// resolver for the whole machine, so each user network gets its own small
// process (`tsrun dns-server BRIDGE`, dns-server.ts), podman's shape rather
// than Docker's: started with the network's first container, ending itself a
// moment after its last one has gone (or stopped by `network rm` / `prune`),
// and recorded in the bridge's state
// as a lease's holder is, by pid and start time, so a server found dead is
// started again by the next container, or by the next command that looks at
// containers (`tsrun ps`, the daemon's list: src/containers/reconcile.ts).
// Every decision is made under the network lock, with the leases it depends on.
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BridgeState } from './ipam.js';
import { isRunningProcess, processStartTime } from '../kernel/proc.js';
import { fail } from '../errors.js';

export type DnsHolder = NonNullable<BridgeState['dns']>;

/** How the server's process is started, watched, told and stopped (tests give a fake). */
export interface DnsProcesses {
  start(bridge: string, root: string): Promise<DnsHolder>;
  isRunning(holder: DnsHolder): boolean;
  /** Asks the server to listen (or stop listening) inside containers' namespaces as the leases now say: after a
   *  container joined the network, and before it goes (its namespace lasts as long as the server's sockets in it). */
  sync(stateDir: string, bridge: string): Promise<void>;
  stop(holder: DnsHolder): Promise<void>;
}

/** Docker's address for the name server inside each container on a user network, where its resolv.conf points. */
export const CONTAINER_RESOLVER = '127.0.0.11';

/** Where a network's server takes "sync" requests. */
export const controlSocket = (stateDir: string, bridge: string) => path.join(stateDir, `${bridge}.dns.sock`);

/** How long a sync may take: the server makes two sockets per container it answers. */
const SYNC_TIMEOUT_MS = 2_000;
/** The server says "ready" once it listens; a slower start is a failure. */
const STARTUP_TIMEOUT_MS = 5_000;
/** How long a stop waits for the port to be free again: 400 looks, 5 ms apart (it exits in a few ms). */
const STOP_CHECKS = 400;
const STOP_CHECK_MS = 5;

// #region dns-lifecycle
/** Under the network lock, when a container joins a user network: its name server, started if it has none
 *  or the recorded one is dead. Changes state.dns; the caller writes the state. */
export async function ensureDns(bridge: string, root: string, state: BridgeState, processes = DNS_PROCESSES): Promise<void> {
  if (state.dns && processes.isRunning(state.dns)) return;
  state.dns = await processes.start(bridge, root);
}

/** Under the network lock, when the network goes (`network rm`, `prune`): its name server with it, at once. */
export async function stopDns(state: BridgeState, processes = DNS_PROCESSES): Promise<void> {
  if (state.dns && processes.isRunning(state.dns)) await processes.stop(state.dns);
  delete state.dns;
}

/** After a container joined or left the network: its server listens inside the namespaces the leases now say. */
export function syncDns(stateDir: string, bridge: string, processes = DNS_PROCESSES): Promise<void> {
  return processes.sync(stateDir, bridge);
}

/** A network without containers keeps its server this long, and the server then ends itself (bridges.ts,
 *  retireIdleNameServer): `run --rm` after `run --rm` on the network, as in a lesson, keeps one server instead of
 *  starting and stopping one each time (a Node process: about 100 ms of a lone run's time). */
export const IDLE_GRACE_MS = 2_000;

/** A user network with containers on it (their tsruns or monitors alive) whose name server is dead: killed, or
 *  taken by the OOM killer. Its containers ask in vain until someone starts another (bridges.ts). */
export function lostItsNameServer(state: BridgeState, processes = DNS_PROCESSES): boolean {
  const named = Object.values(state.leases).some((lease) => lease.name !== undefined && isRunningProcess(lease.holder.pid, lease.holder.startTime));
  return named && !(state.dns && processes.isRunning(state.dns));
}
// #endregion

export const DNS_PROCESSES: DnsProcesses = {
  async start(bridge, root) {
    const { spawn } = await import('node:child_process');
    // Its own session (detached), so that ^C in the terminal of the run that started it does not reach it;
    // cwd / so that it holds no directory of whoever started it. It answers on fd 3: "ready", or why not.
    const child = spawn(process.execPath, [process.argv[1]!, '--root', root, 'dns-server', bridge],
      { detached: true, cwd: '/', stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    const said = await firstWords(child.stdio[3] as Readable);
    if (said !== 'ready') {
      child.kill('SIGKILL');
      throw fail(`the name server of the network on ${bridge} did not start: ${said || 'it exited'}`,
        'is something else listening on port 53 of the network\'s gateway address?');
    }
    child.unref();
    return { pid: child.pid!, startTime: processStartTime(child.pid!) };
  },
  isRunning: (holder) => isRunningProcess(holder.pid, holder.startTime),
  async sync(stateDir, bridge) {
    const net = await import('node:net');
    const said = await new Promise<string>((resolve) => {
      let text = '';
      const connection = net.connect(controlSocket(stateDir, bridge));
      connection.setTimeout(SYNC_TIMEOUT_MS, () => connection.destroy());
      connection.on('error', (error) => resolve(error.message));
      connection.on('close', () => resolve(text.trim() || 'no answer'));
      connection.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
      connection.end('sync\n');
    });
    if (said !== 'ok') throw fail(`the name server of the network on ${bridge} did not answer: ${said}`, 'see whether `tsrun dns-server` runs (tsrun ps starts it again)');
  },
  async stop(holder) {
    process.kill(holder.pid, 'SIGTERM');
    // Gone before the lock is let go: a network made next on the same subnet can then have port 53.
    for (let check = 0; check < STOP_CHECKS && isRunningProcess(holder.pid, holder.startTime); check++) {
      await new Promise((resolve) => setTimeout(resolve, STOP_CHECK_MS));
    }
  },
};

/** Everything written on the pipe until the server closes it (or the timeout). */
function firstWords(pipe: Readable): Promise<string> {
  return new Promise((resolve) => {
    let said = '';
    const timer = setTimeout(() => { pipe.destroy(); resolve(`no word within ${STARTUP_TIMEOUT_MS / 1000} s`); }, STARTUP_TIMEOUT_MS);
    pipe.setEncoding('utf8').on('data', (chunk: string) => { said += chunk; });
    pipe.on('end', () => { clearTimeout(timer); pipe.destroy(); resolve(said.trim()); });
  });
}
