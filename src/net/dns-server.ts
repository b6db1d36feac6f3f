// The name server of one user network, what `tsrun dns-server BRIDGE` runs:
// it listens at 127.0.0.11, port 53 (UDP, and TCP for resolvers that ask that
// way) inside each of the network's containers, where their /etc/resolv.conf
// points as Docker's does, and on the network's gateway address.
//
// A container's name is answered from the bridge's state file, read again at
// every query: the leases are the truth about who runs on the network now, so
// a peer started later, stopped, restarted or renamed is answered as it is.
// Any other name is forwarded, byte for byte, to the host's resolvers.
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from '../store/atomic.js';
import { overlaps, parseSubnet } from './address.js';
import { interfaceNumber, leaseOf, listBridgeStates, readBridgeState, type BridgeState, type Lease } from './ipam.js';
import type { Syscalls } from '../kernel/syscalls.js';
import { CLASS_IN, RCODE, TYPE_A, readQuestion, writeAnswer, writeError } from './dns-message.js';
import { FALLBACK_NAMESERVERS } from './etc-files.js';
import { CONTAINER_RESOLVER } from './dns.js';

export const DNS_PORT = 53;
/** How long one upstream resolver has to answer a forwarded query. */
const FORWARD_TIMEOUT_MS = 2_000;
/** resolv.conf's own limit (MAXNS): at most three upstreams, so a forwarded query ends within 6 s. */
const MAX_UPSTREAMS = 3;
/** A TCP client that says nothing for this long is let go; no more than this many at once. */
const TCP_IDLE_MS = 10_000;
const TCP_CLIENTS = 64;

export interface Upstream { address: string; port: number }

// #region dns-names
/** Who answers to which name on the network now: each container by its current name (read from its store,
 *  so a rename is seen at once), by the 12 first digits of its id, and by its --network-alias names, as Docker's
 *  embedded DNS does. Several containers may share an alias: the name then has all their addresses. */
export function namesOnNetwork(state: BridgeState, nameOf: (lease: Lease) => string | undefined = currentName): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const add = (name: string, address: string) => {
    const addresses = names.get(name.toLowerCase()) ?? [];
    if (!addresses.includes(address)) names.set(name.toLowerCase(), [...addresses, address]); // an alias that is its own name, say
  };
  for (const [address, lease] of Object.entries(state.leases)) {
    if (lease.name === undefined) continue; // a lease on the default bridge, where Docker gives out no names
    const name = nameOf(lease);
    if (name !== undefined) add(name, address);
    add(lease.container.slice(0, 12), address);
    for (const alias of lease.aliases ?? []) add(alias, address);
  }
  return names;
}

/** What a container asking from `from` may learn: the names of every user network it is on (a container connected
 *  to several asks only its first network's server, as its resolv.conf says), as Docker's resolver answers it. */
export function namesFor(from: string, state: BridgeState, others: BridgeState[], nameOf: (lease: Lease) => string | undefined = currentName): Map<string, string[]> {
  const asker = state.leases[from]?.container;
  const networks = [state, ...others.filter((other) => asker !== undefined && leaseOf(other, asker) !== undefined)];
  const names = new Map<string, string[]>();
  for (const network of networks) {
    for (const [name, addresses] of namesOnNetwork(network, nameOf)) names.set(name, [...(names.get(name) ?? []), ...addresses]);
  }
  return names;
}

function currentName(lease: Lease): string | undefined {
  try {
    return readJson<{ name: string }>(path.join(lease.store, 'containers', lease.container, 'config.json')).name;
  } catch {
    return lease.name; // its record is being removed: the name it started with
  }
}
// #endregion

// #region dns-reply
/** What to send back: an answer of ours, 'forward' for a name that is no container here. */
export function replyTo(message: Buffer, names: Map<string, string[]>): Buffer | 'forward' | undefined {
  const question = readQuestion(message);
  if (!question) return writeError(message, RCODE.notImp);
  const addresses = names.get(question.name);
  if (addresses === undefined) return 'forward';
  // The name is a container's: an A question gets its address; AAAA and the rest get no record (not NXDOMAIN,
  // which would tell the resolver the name does not exist at all).
  const isA = question.type === TYPE_A && question.class === CLASS_IN;
  return writeAnswer(question, RCODE.noError, isA ? addresses : []);
}
// #endregion

// #region dns-upstreams
/** Where other names are asked: "dns-upstream" in the store's config.json (["ADDRESS" or "ADDRESS:PORT", …]),
 *  else the host's nameservers. Loopback ones stay: unlike a container, this server runs in the host's
 *  network namespace, where systemd-resolved's 127.0.0.53 answers. */
export function upstreamsFrom(configured: unknown, hostResolvConf: string): Upstream[] {
  const listed = Array.isArray(configured)
    ? configured.map(String)
    : hostResolvConf.split('\n').map((line) => /^\s*nameserver\s+([0-9.]+)\s*$/.exec(line)?.[1]).filter((a): a is string => !!a);
  const servers = listed.length > 0 ? listed : FALLBACK_NAMESERVERS;
  return servers.slice(0, MAX_UPSTREAMS).map((server) => {
    const [address, port] = server.split(':');
    return { address: address!, port: port === undefined ? DNS_PORT : Number(port) };
  });
}
// #endregion

/** The query, asked of each upstream in turn until one answers; undefined if none did in time. */
export async function forward(message: Buffer, upstreams: Upstream[]): Promise<Buffer | undefined> {
  for (const upstream of upstreams) {
    const answer = await askOnce(message, upstream);
    if (answer) return answer;
  }
  return undefined;
}

function askOnce(message: Buffer, upstream: Upstream): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    let settled = false;
    // Once only: an error and a timeout may both come, and a socket closed twice throws.
    const done = (answer?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(done, FORWARD_TIMEOUT_MS);
    socket.on('error', () => done());
    socket.on('message', (answer, from) => {
      // Only the upstream's answer to this very query: same sender, same id.
      if (from.address === upstream.address && from.port === upstream.port && answer.length >= 2 && answer.readUInt16BE(0) === message.readUInt16BE(0)) done(answer);
    });
    socket.send(message, upstream.port, upstream.address, (error) => { if (error) done(); });
  });
}

// #region dns-idle
/** How often the server looks whether its network still has containers. */
const IDLE_CHECK_MS = 500;

/** Calls `end` once the network has had no container for `graceMs` and `retire` (which decides under the network
 *  lock, where no container can join meanwhile) agrees. Returns what cancels the watch. */
export function endWhenIdle(stateDir: string, bridge: string, graceMs: number, retire: () => Promise<boolean>, end: () => void): () => void {
  let idleSince: number | undefined;
  let asking = false;
  const watch = setInterval(() => {
    const state = readBridgeState(stateDir, bridge);
    if (state && Object.keys(state.leases).length > 0) {
      idleSince = undefined;
      return;
    }
    idleSince ??= Date.now();
    if (asking || Date.now() - idleSince < graceMs) return;
    asking = true;
    retire().then((retired) => {
      asking = false;
      if (!retired) return void (idleSince = undefined); // a container joined just before the lock
      clearInterval(watch);
      end();
    }, () => { asking = false; }); // the lock failed this time: asked again at the next look
  }, IDLE_CHECK_MS);
  return () => clearInterval(watch);
}
// #endregion

export interface DnsServerOptions {
  stateDir: string;
  bridge: string;
  upstreams: Upstream[];
  /** Default: the network's gateway address, port 53; tests give loopback and a free port. */
  address?: string;
  port?: number;
  /** To listen inside containers' namespaces (socket_in_netns, bind); without it, on the gateway address only. */
  sys?: Pick<Syscalls, 'socket_in_netns' | 'bind'>;
  /** A unix socket where "sync" asks it to catch up with the leases now (dns.ts, after a container joined or left). */
  control?: string;
}

export interface DnsServer {
  /** Listen at 127.0.0.11 in the namespace of each container this server is to answer there, and no other. */
  sync(): Promise<void>;
  close(): void;
}

/** Listen (UDP and TCP) until close(). Only the network's own containers are answered: a container on another
 *  network also reaches the gateway address (it is the host's), but must not learn this network's names. */
export async function serveDns(options: DnsServerOptions): Promise<DnsServer> {
  const initial = readBridgeState(options.stateDir, options.bridge);
  if (!initial) throw new Error(`no state for the bridge ${options.bridge}`);

  // Whatever goes wrong with one query (a state file unreadable for a moment) is that query's SERVFAIL, not the
  // end of the server: a failure here would otherwise be an unhandled rejection, which ends the process.
  const answer: Answer = (message, from) => answerOrFail(message, from).catch(() => writeError(message, RCODE.servFail));
  const answerOrFail = async (message: Buffer, from: string): Promise<Buffer | undefined> => {
    const state = readBridgeState(options.stateDir, options.bridge);
    if (!state) return writeError(message, RCODE.servFail);
    if (!overlaps(parseSubnet(from), parseSubnet(state.subnet))) return writeError(message, RCODE.refused);
    const others = listBridgeStates(options.stateDir).filter(({ bridge }) => bridge !== options.bridge).map((other) => other.state);
    const reply = replyTo(message, namesFor(from, state, others));
    if (reply !== 'forward') return reply;
    return (await forward(message, options.upstreams)) ?? writeError(message, RCODE.servFail);
  };

  const onGateway = await listen(answer, (from) => from);
  await onGateway.bind({ address: options.address ?? initial.gateway, port: options.port ?? DNS_PORT });

  // #region dns-in-container
  // Inside each container: the same questions, on sockets made in its namespace. All that comes in there is the
  // container's own, so the asker is known by the socket, as its address on this network.
  const inside = new Map<string, Listener>(); // the namespace (file and inode) -> its listener
  const sync = async () => {
    const wanted = options.sys ? containersToServe(options.bridge, listBridgeStates(options.stateDir)) : new Map<string, string>();
    for (const [netns, listener] of inside) {
      if (wanted.has(netns)) continue;
      listener.close(); // gone, or answered by another network's server now
      inside.delete(netns);
    }
    for (const [netns, asker] of wanted) {
      if (inside.has(netns)) continue;
      const listener = await listen(answer, () => asker);
      try {
        await listener.bind({ address: CONTAINER_RESOLVER, port: DNS_PORT, netns: netns.slice(0, netns.lastIndexOf(':')), sys: options.sys! });
        inside.set(netns, listener);
      } catch {
        listener.close(); // its namespace went meanwhile, or the server it had is yet to let go: the next sync
      }
    }
  };
  // #endregion
  await sync();
  // What a sync request missed (a server started again, a release whose request failed) is caught up with here.
  const catchUp = setInterval(() => void sync().catch(() => {}), RESYNC_MS);
  const control = options.control === undefined ? undefined : await serveControl(options.control, sync);
  return {
    sync,
    close: () => {
      clearInterval(catchUp);
      control?.close();
      onGateway.close();
      for (const listener of inside.values()) listener.close();
    },
  };
}

/** One line, "sync", answered "ok" once the listeners follow the leases (or "error …"). Only root may ask. */
async function serveControl(file: string, sync: () => Promise<void>): Promise<net.Server> {
  fs.rmSync(file, { force: true }); // a server killed before leaves its socket behind
  const server = net.createServer((connection) => {
    connection.on('error', () => connection.destroy());
    connection.setEncoding('utf8').once('data', () => {
      sync().then(() => connection.end('ok\n'), (error: Error) => connection.end(`error ${error.message}\n`));
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(file, resolve); });
  fs.chmodSync(file, 0o600);
  return server;
}

/** How often the server checks, unasked, which containers it is to answer inside. */
const RESYNC_MS = 1_000;

/** The containers whose 127.0.0.11 this network's server answers: those whose first user network (the lowest of their
 *  interfaces with a name there) is this one, as their resolv.conf would have named its server. Keyed by the
 *  namespace file and its inode (a restarted container has a new namespace at the same file), to the container's
 *  address on this network. */
export function containersToServe(bridge: string, states: Array<{ bridge: string; state: BridgeState }>, inode = namespaceInode): Map<string, string> {
  const first = new Map<string, { bridge: string; address: string; lease: Lease }>();
  for (const { bridge: on, state } of states) {
    for (const [address, lease] of Object.entries(state.leases)) {
      if (lease.name === undefined) continue;
      const known = first.get(lease.container);
      if (!known || interfaceNumber(lease) < interfaceNumber(known.lease)) first.set(lease.container, { bridge: on, address, lease });
    }
  }
  const served = new Map<string, string>();
  for (const { bridge: on, address, lease } of first.values()) {
    const id = on === bridge ? inode(lease.netns) : undefined;
    if (id !== undefined) served.set(`${lease.netns}:${id}`, address);
  }
  return served;
}

function namespaceInode(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined; // released: its mount is gone
  }
}

type Answer = (message: Buffer, from: string) => Promise<Buffer | undefined>;
interface Listener {
  bind(at: { address: string; port: number; netns?: string; sys?: Pick<Syscalls, 'socket_in_netns' | 'bind'> }): Promise<void>;
  close(): void;
}

/** A UDP socket and a TCP server answering with `answer`, the asker as `askerOf` tells it from the peer's address. */
async function listen(answer: Answer, askerOf: (from: string) => string): Promise<Listener> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (message, from) => {
    void answer(message, askerOf(from.address)).then((reply) => { if (reply) udp.send(reply, from.port, from.address, () => {}); }); // a client gone meanwhile: nothing to do
  });
  // Over TCP each message comes after its length, two bytes (RFC 1035 §4.2.2).
  const tcp = net.createServer((connection) => {
    let received = Buffer.alloc(0);
    connection.setTimeout(TCP_IDLE_MS, () => connection.destroy());
    connection.on('error', () => connection.destroy());
    connection.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const message = received.subarray(2, 2 + received.readUInt16BE(0));
        received = received.subarray(2 + message.length);
        void answer(message, askerOf(connection.remoteAddress!.replace(/^::ffff:/, ''))).then((reply) => {
          if (!reply || connection.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          connection.write(Buffer.concat([length, reply]));
        });
      }
    });
  });
  tcp.maxConnections = TCP_CLIENTS; // one container must not take all of the server's descriptors
  return {
    async bind({ address, port, netns, sys }) {
      // In a container's namespace, the sockets are made there and bound natively; Node takes them over as they are.
      const [udpAt, tcpAt] = netns && sys
        ? [{ fd: socketIn(sys, netns, 'SOCK_DGRAM', address, port) }, { fd: socketIn(sys, netns, 'SOCK_STREAM', address, port) }]
        : [{ address, port }, { host: address, port }];
      await Promise.all([
        new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(udpAt, resolve); }),
        new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(tcpAt, resolve); }),
      ]);
    },
    close() {
      udp.close();
      tcp.close(() => {}); // not listening, if its bind failed: nothing to report
    },
  };
}

function socketIn(sys: Pick<Syscalls, 'socket_in_netns' | 'bind'>, netns: string, type: 'SOCK_DGRAM' | 'SOCK_STREAM', address: string, port: number): number {
  const fd = sys.socket_in_netns(netns, type);
  try {
    sys.bind(fd, address, port);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}
