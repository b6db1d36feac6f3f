// The plain data that flows through the stages of `tsrun run`. Everything here
// is JSON-serialisable: --explain prints it, tests compare it, the store
// keeps it, and a daemon could hand it over the wire.
import type { ChildStep, StepSpan } from './kernel/steps.js';
import type { RtnetlinkBatch } from './kernel/syscalls.js';
import type { ResourceLimits } from './cgroups/limits.js';
import type { CgroupPlan } from './cgroups/cgroup.js';
import { fail } from './errors.js';
import type { SecurityConfig } from './security/options.js';
import type { ConfinementPlan } from './security/confinement.js';

/** What a container may be called, as docker allows it (`--name`, `rename`). */
export const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

// #region run-request
/** Everything a container needs, parsed and checked by a front door before any stage runs: the command line
 *  (src/cli/run-request.ts) today; a Docker API create body or an OCI bundle's config.json are the same fields
 *  under other names. The stages read it and never see a flag. What only the image can settle (its Cmd, Env,
 *  User, WorkingDir, ExposedPorts) the create stage settles. */
export interface RunRequest {
  /** The image reference or id, as the user wrote it. */
  image: string;
  /** --pull: fetch the image from its registry when it is missing (default), always, or never. */
  pull: PullPolicy;
  name?: string;
  /** Replaces the image's Cmd when not empty (Docker's Cmd). */
  command: string[];
  /** Replaces the image's Entrypoint, and then its Cmd too; [] clears it (Docker's Entrypoint). */
  entrypoint?: string[];
  /** KEY=VALUE, from --env-file then -e, the later winning; a bare KEY was already given its value by the front door. */
  env: string[];
  /** An absolute path; default: the image's WorkingDir. */
  workdir?: string;
  user?: string;
  hostname?: string;
  interactive: boolean;
  /** With interactive: the input ends when the first client that wrote it closes it (Docker's StdinOnce, which
   *  `docker run -i` sets); else writers may come and go (`run -d -i`, then attaches). */
  stdinOnce: boolean;
  tty: boolean;
  autoRemove: boolean;
  /** bridge (the default), none (loopback only), host (the host's own stack), or a user network's name or id. */
  network: NetworkMode;
  /** --network-alias: more names the container answers to on its network (a user network's name server only). */
  aliases: string[];
  /** --label KEY=VALUE: the user's notes on the container, over the image's labels; `ps --filter label=` finds them. */
  labels: Record<string, string>;
  /** Ports to publish; a host port of 0 is picked when the container starts. */
  ports: PortMapping[];
  /** -P: publish every port the image exposes that `ports` does not name. */
  publishAll: boolean;
  /** Volumes (an anonymous one with source ''), bind mounts and tmpfs mounts. */
  mounts: MountSpec[];
  /** The container's root filesystem cannot be written. */
  readOnly: boolean;
  restart: RestartPolicy;
  /** Bytes the json-file log may grow to before it is rotated (default 10 MiB). */
  logMaxSize?: number;
  /** What `tsrun stop` sends first (default: the image's STOPSIGNAL, else SIGTERM). */
  stopSignal?: string;
  resources: ResourceLimits;
  security: SecurityConfig;
}
// #endregion

/** What no front door may let through, whatever its syntax: checked before there is a container to clean up. */
export function checkRunRequest(request: RunRequest): void {
  if (request.name !== undefined && !VALID_NAME.test(request.name)) {
    throw fail(`invalid container name "${request.name}"`, 'use letters, digits, "_", "." and "-", starting with a letter or digit');
  }
  if (request.workdir !== undefined && !request.workdir.startsWith('/')) {
    throw fail(`the working directory '${request.workdir}' is invalid, it needs to be an absolute path`, 'start it with /');
  }
  if (request.restart.name !== 'no' && request.autoRemove) {
    throw fail('conflicting options: --restart and --rm', 'a container that removes itself cannot be restarted: drop one');
  }
  if (request.aliases.length > 0 && !isUserNetwork(request.network)) {
    // Docker's words: only a user network has a name server to answer them.
    throw fail('network-scoped alias is supported only for containers in user defined networks', 'create a network with `tsrun network create` and run the container on it');
  }
  if ((request.ports.length > 0 || request.publishAll) && (request.network === 'none' || request.network === 'host')) {
    throw fail(`--network ${request.network} has no ports to publish`, request.network === 'host' ? 'the container uses the host\'s ports directly: drop -p' : 'drop -p, or use --network bridge');
  }
  const targets = request.mounts.map((mount) => mount.target);
  const twice = targets.find((target, i) => targets.indexOf(target) !== i);
  if (twice) throw fail(`duplicate mount point: ${twice}`, 'mount one thing on each path');
}

export type PullPolicy = 'missing' | 'always' | 'never';

/** bridge (the default network), none, host, or the name of a user network (`tsrun network create`). */
export type NetworkMode = string;

/** A network of the user's, not one of the three every host has. */
export const isUserNetwork = (network: NetworkMode) => network !== 'bridge' && network !== 'none' && network !== 'host';

/** One network a container is on (Docker's endpoint): which, and the aliases it answers to there. */
export interface NetworkEndpoint {
  /** bridge, or a user network's name. */
  network: string;
  aliases: string[];
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited';

/** Its process exists: running, or paused (frozen, but there). */
export const isUp = (state: { status: ContainerStatus }) => state.status === 'running' || state.status === 'paused';

export interface ContainerState {
  status: ContainerStatus;
  pid: number | null;
  /** The process's start time in clock ticks (/proc/PID/stat), so a reused pid is not mistaken for it. */
  pidStartTime: number | null;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Why the last start failed, if it did. */
  error: string;
  /** A detached container's tsrun-monitor, its parent: while it lives, it will record the container's exit. */
  monitor?: { pid: number; startTime: number | null } | null;
  /** How often the restart policy has started it again since it was last started by hand. */
  restartCount?: number;
  /** Stopped with `tsrun stop` or `kill`: the restart policy leaves it stopped. */
  stoppedByUser?: boolean;
  /** Stopped by `restart`, to be started again at once: its exit does not remove it, even with --rm. */
  restarting?: boolean;
  /** The kernel's OOM killer killed a process of it during its last run (docker's State.OOMKilled). */
  oomKilled?: boolean;
  /** The tsrun that last started it (or, for a detached container, its monitor's exit command): if that one
   *  was killed before it released what the start made, whoever looks next does (src/containers/reconcile.ts). */
  owner?: { pid: number; startTime: number | null } | null;
}

export type Protocol = 'tcp' | 'udp';

/** A published port (-p): where on the host leads to which port of the container. */
export interface PortMapping {
  /** The host address it is published on; '' for all of them. */
  hostIp: string;
  /** 0 until a free port is picked for it. */
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

/** A volume, bind mount or tmpfs (-v, --mount, --tmpfs). */
export interface MountSpec {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: the host path; volume: the volume's name ('' until an anonymous one is named); tmpfs: ''. */
  source: string;
  /** Where it appears inside the container: an absolute path. */
  target: string;
  readOnly: boolean;
  /** tmpfs: the mount's options (size=…,mode=…). */
  options?: string;
  /** tmpfs: what the flag allowed back of what a tmpfs forbids by default (see mountSteps). */
  allow?: TmpfsAllow[];
}

export type TmpfsAllow = 'exec' | 'suid' | 'dev';

/** Docker's HostConfig.RestartPolicy. */
export interface RestartPolicy {
  name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  /** on-failure: give up after this many restarts (0: never give up). */
  maximumRetryCount: number;
}

/** A container as the store keeps it: made by `create`, changed by every start. */
export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  image: {
    /** The image's id (its config digest). */
    id: string;
    /** The reference as the user wrote it, for `tsrun ps`. */
    name: string;
    /** Diff ids of the layers, bottom first. */
    layers: string[];
  };
  /** The process to run, with the image's defaults and the user's flags already applied. */
  config: {
    argv: string[];
    /** The two parts of argv, as docker inspect shows them (when the record has them). */
    entrypoint?: string[];
    cmd?: string[];
    env: string[];
    workingDir: string;
    user: string;
    hostname: string;
    tty: boolean;
    interactive: boolean;
    /** The input ends with its first writer's (RunRequest's stdinOnce). */
    stdinOnce?: boolean;
    autoRemove: boolean;
    /** 'bridge' when absent. What Docker calls the network mode: a user network named here is the one joined at
     *  create; `networks` says which the container is on now. */
    network?: NetworkMode;
    /** The networks it is on, eth0's first: the one `network` names, then those `tsrun network connect` added,
     *  less those `disconnect` took away. Absent in records older than it: the one `network` names. */
    networks?: NetworkEndpoint[];
    /** Ports to publish on the bridge; a host port of 0 is picked when the container starts. */
    ports?: PortMapping[];
    /** Volumes, bind mounts and tmpfs mounts (anonymous volumes already named). */
    mounts?: MountSpec[];
    readOnly?: boolean;
    restart?: RestartPolicy;
    /** Bytes the json-file log may grow to before it is rotated. */
    logMaxSize?: number;
    stopSignal?: string;
    /** The image's labels and the request's (absent in records older than labels: none). */
    labels?: Record<string, string>;
    resources?: ResourceLimits;
    /** Capabilities, seccomp, devices, limits (the defaults when absent). */
    security?: SecurityConfig;
  };
  state: ContainerState;
}

/** What the rw layer stage decided: an overlay over the image's layers. */
export interface RootfsPlan {
  /** Image layer directories, topmost first (overlayfs's lowerdir order). */
  lowerdirs: string[];
  upperdir: string;
  workdir: string;
  /** Where the child mounts the overlay, inside its own mount namespace. */
  mountpoint: string;
  steps: ChildStep[];
}

/** What the network stage decided. */
export interface NetworkPlan {
  mode: NetworkMode;
  /** The container's interfaces as `ip -brief address` would list them: "eth0 10.88.0.2/16". */
  interfaces: string[];
  /** bridge: the network namespace tsrun made and configured, kept as a file the child joins. */
  namespaceFile?: string;
  /** bridge: how the container is wired to the host, through its first network (eth0, the default route). */
  bridge?: BridgeAttachment;
  /** The other networks it is on (`tsrun network connect`), one interface each: eth1, … */
  alsoOn?: BridgeAttachment[];
  /** Files bind-mounted over the container's /etc/hostname, /etc/hosts and /etc/resolv.conf. */
  files: { hostname: string; hosts: string; resolvConf: string };
  steps: ChildStep[];
}

export interface BridgeAttachment {
  /** The host's bridge, e.g. tsrun0. */
  name: string;
  subnet: string;
  gateway: string;
  /** The container's address, with the subnet's prefix length: 10.88.0.2/16. */
  address: string;
  /** The container's end of the veth pair: eth0, or eth1, … on the networks it joined later. */
  interface: string;
  /** The host's end of the veth pair, a port of the bridge. */
  hostInterface: string;
  mtu: number;
  /** Published ports, each with the host port it got. */
  ports: PortMapping[];
  /** The rtnetlink messages that laid the cable: the veth pair on the host, then the address (and on eth0
   *  loopback and the default route) inside the namespace. */
  netlink: RtnetlinkBatch[];
}

/** What the namespaces stage decided: which namespaces, and the mounts that build the container's root. */
export interface NamespacesPlan {
  cloneFlags: string[];
  /** The container's cgroup: made by exec before the child exists, joined by the child's first steps. */
  cgroup: CgroupPlan;
  /** Where the child builds the container's root before pivot_root (the overlay's mount point). */
  root: string;
  steps: ChildStep[];
  /** How the trace groups the steps into spans. */
  stepSpans: StepSpan[];
}

/** The process exec starts, as the kernel will see it. */
export interface ProcessPlan {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** Directories of the container's PATH searched for argv[0]. */
  search: string[];
  /** Its capabilities, no_new_privs and limits. */
  confinement: ConfinementPlan;
  steps: ChildStep[];
  /** How the trace groups the steps into spans (counted from the first of these steps). */
  stepSpans: StepSpan[];
}

/** The file descriptors the container's stdio comes from (tsrun's own by default). */
export interface ExecIO {
  stdin: number;
  stdout: number;
  stderr: number;
}

/** How the container's process ended. */
export interface ExitRecord {
  pid: number;
  exitCode: number;
  signal: string | null;
  startedAt: string;
  finishedAt: string;
}

/** A detached container's start: who runs it and where its output goes. */
export interface DetachedStart {
  pid: number;
  startedAt: string;
  /** The monitor that is the container's parent, logs its output, and records its exit. */
  monitorPid: number;
  logPath: string;
}

/** The stages of `tsrun run`, in order. */
export const STAGES = ['pull', 'create', 'rwlayer', 'network', 'namespaces', 'exec'] as const;
export type StageName = (typeof STAGES)[number];

/** Watches a run without steering it: --explain and --step are observers. */
export interface RunObserver {
  /** Before a stage runs; may wait (--step waits for Enter). */
  stageStarting?(stage: StageName): Promise<void> | void;
  /** After a stage, with what it returned. */
  stageFinished?(stage: StageName, result: unknown, milliseconds: number): void;
  /** The container's process has called execve and runs now. */
  processStarted?(pid: number, process: ProcessPlan): void;
}
