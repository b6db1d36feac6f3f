// The flags of `run` and `create`: the table yargs (and the fast path, plain-run.ts) parse them with.
// Kept apart from their meaning (run-request.ts), which is loaded only when a container is made.
import type { ResourceFlags } from '../docker/settings.js';

export interface RunArgs extends ResourceFlags {
  root?: string;
  image: string;
  /** The words after `--` that main.ts put after the image: the container's command. */
  _: (string | number)[];
  rm: boolean;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
  env: string[];
  'env-file': string[];
  workdir?: string;
  user?: string;
  name?: string;
  hostname?: string;
  entrypoint?: string;
  network: string;
  'network-alias': string[];
  label: string[];
  publish: string[];
  'publish-all': boolean;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  'read-only': boolean;
  restart: string;
  'log-opt': string[];
  'stop-signal'?: string;
  pull: string;
  privileged: boolean;
  'cap-add': string[];
  'cap-drop': string[];
  'security-opt': string[];
  device: string[];
  ulimit: string[];
  explain?: string;
  step: boolean;
  'no-traceparent': boolean;
}

/** The flags of `run` and `create`. */
export const containerOptions = {
  rm: { type: 'boolean', default: false, describe: 'Remove the container when it exits' },
  detach: { alias: 'd', type: 'boolean', default: false, describe: 'Run the container in the background and print its id' },
  interactive: { alias: 'i', type: 'boolean', default: false, describe: 'Keep STDIN open and forward it to the container' },
  tty: { alias: 't', type: 'boolean', default: false, describe: 'Allocate a pseudo-TTY' },
  env: { alias: 'e', type: 'string', array: true, default: [], describe: 'Set environment variables (KEY=VALUE, or KEY to copy it)' },
  'env-file': { type: 'string', array: true, default: [], describe: 'Read environment variables from a file' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  user: { alias: 'u', type: 'string', describe: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  name: { type: 'string', describe: 'Assign a name to the container' },
  hostname: { alias: 'h', type: 'string', describe: 'Container host name' },
  entrypoint: { type: 'string', describe: 'Overwrite the default ENTRYPOINT of the image' },
  network: { type: 'string', default: 'bridge', describe: 'Connect the container to a network: bridge, none, host or a user network' },
  'network-alias': { alias: 'net-alias', type: 'string', array: true, default: [], describe: 'Another name the container answers to on its user network' },
  label: { alias: 'l', type: 'string', array: true, default: [], describe: 'Set a label on the container (KEY=VALUE, or KEY for an empty value)' },
  publish: { alias: 'p', type: 'string', array: true, default: [], describe: 'Publish a container\'s port on the host ([HOST_IP:][HOST_PORT:]CONTAINER_PORT[/udp])' },
  'publish-all': { alias: 'P', type: 'boolean', default: false, describe: 'Publish every port the image exposes, each on a free host port' },
  volume: { alias: 'v', type: 'string', array: true, default: [], describe: 'Bind mount a host path or a named volume (SOURCE:TARGET[:ro], or TARGET for an anonymous volume)' },
  mount: { type: 'string', array: true, default: [], describe: 'Attach a mount (type=bind|volume|tmpfs,source=...,target=...[,readonly])' },
  tmpfs: { type: 'string', array: true, default: [], describe: 'Mount a tmpfs, noexec,nosuid,nodev unless told (TARGET[:size=...,mode=...,ro,exec,suid,dev])' },
  'read-only': { type: 'boolean', default: false, describe: 'Mount the container\'s root filesystem as read only' },
  restart: { type: 'string', default: 'no', describe: 'Restart policy of a detached container: no, on-failure[:N], always, unless-stopped' },
  'log-opt': { type: 'string', array: true, default: [], describe: 'Log driver option: max-size=SIZE (json-file, rotated past it; default 10m)' },
  'stop-signal': { type: 'string', describe: 'Signal `tsrun stop` sends first (default: the image\'s STOPSIGNAL, else SIGTERM)' },
  pull: { type: 'string', default: 'missing', describe: 'Pull the image before running: missing, always or never' },
  memory: { alias: 'm', type: 'string', describe: 'Memory limit (e.g. 64m, 1g)' },
  'memory-swap': { type: 'string', describe: 'Memory plus swap limit; -1 for unlimited swap' },
  cpus: { type: 'string', describe: 'Number of CPUs (e.g. 1.5)' },
  'cpu-shares': { alias: 'c', type: 'string', describe: 'CPU shares (relative weight; default 1024)' },
  'pids-limit': { type: 'string', describe: 'Most processes the container may have (-1 for unlimited)' },
  'cpuset-cpus': { type: 'string', describe: 'CPUs in which to allow execution (0-3, 0,1)' },
  privileged: { type: 'boolean', default: false, describe: 'Give the container every capability and device, no seccomp filter, writable /sys and /proc/sys' },
  'cap-add': { type: 'string', array: true, default: [], describe: 'Add a Linux capability (NET_ADMIN, SYS_TIME, …, or ALL)' },
  'cap-drop': { type: 'string', array: true, default: [], describe: 'Drop a Linux capability (or ALL)' },
  'security-opt': { type: 'string', array: true, default: [], describe: 'seccomp=unconfined|PROFILE.json, no-new-privileges, systempaths=unconfined' },
  device: { type: 'string', array: true, default: [], describe: 'Add a host device (HOST[:CONTAINER][:rwm])' },
  ulimit: { type: 'string', array: true, default: [], describe: 'Set a resource limit (NAME=SOFT[:HARD], e.g. nofile=1024:2048)' },
  explain: { type: 'string', describe: 'Say what each stage does and show its real values on stderr (--explain=json: JSON lines)' },
  step: { type: 'boolean', default: false, describe: 'Pause before each stage until Enter is pressed' },
  'no-traceparent': { type: 'boolean', default: false, describe: 'When tracing, don\'t give the container TRACEPARENT (as TSRUN_NO_TRACEPARENT=1)' },
} as const;
