// The TypeScript face of native/: one method per system call, named as the
// kernel names it. Stages receive a `Syscalls` object instead of importing the
// addon, so unit tests can pass a recording double and run without root.

import type { SeccompFilter } from './seccomp.js';
import type { ChildStep } from './steps.js';

/** What the cloned child was asked to do and the pipes it talks through. */
export interface SpawnRequest {
  /** CLONE_NEW* names, e.g. ['CLONE_NEWNS', 'CLONE_NEWPID']. */
  cloneFlags: string[];
  /** Performed in order by the child, ending in an execve step. */
  steps: ChildStep[];
  /** File descriptors that become the child's 0, 1 and 2 (-1: /dev/null). */
  stdio: [number, number, number];
  /** SIGKILL the child if tsrun dies (default true): a foreground container never outlives its runtime. */
  dieWithParent?: boolean;
  /** `tsrun-oci create`: a descriptor of a FIFO, opened O_PATH. After its last step the child says it is waiting
   *  (a report with errno 0) and waits until someone opens the FIFO for reading (native/src/exec.c). */
  awaitStart?: number;
  /** Descriptors 3 to 3 + preserveFds - 1 of tsrun's stay open for the command (tsrun-oci --preserve-fds); every
   *  other one closes at its execve. */
  preserveFds?: number;
}

export interface SpawnedChild {
  pid: number;
  /** Read end of the close-on-exec pipe: EOF alone means execve succeeded. */
  errorFd: number;
  /** Our end of the socket a child's `open_pty` step sends the pty master on (-1 if none). */
  consoleFd: number;
  /** CLOCK_MONOTONIC nanoseconds, written by the child as it goes (0: not reached):
   *  [0] tsrun called clone, [1] the child began, [2 + i] step i began (and step i - 1 ended);
   *  after a step that failed, the slot after its own holds when it ended. */
  times: BigInt64Array;
}

/** What tsrun-monitor (native/src/monitor.cc) is started with: the parent of a detached container. */
export interface MonitorRequest {
  /** The child's clone flags and steps, as encodeSpawn made them: the monitor clones the child itself. */
  spawn: Buffer;
  /** Where the container's output goes, as json-file lines, and the size past which that file is rotated. */
  logPath: string;
  logMaxBytes: number;
  /** Where the monitor writes the exit status when the container has exited. */
  exitFile: string;
  /** A FIFO the container reads as its stdin (`run -d -i`), or null for /dev/null. */
  stdinFifo: string | null;
  /** With a terminal (`run -d -t`): a FIFO of "ROWS COLS" lines, the terminal's size; null without one. */
  consoleFifo: string | null;
  /** The container's input ends when the FIFO's first writer closes it (else the monitor keeps it open). */
  stdinOnce: boolean;
  /** What the monitor becomes (execv) once it has written the exit status: tsrun again. */
  exitCommand: string[];
  /** The monitor's own stdout and stderr. */
  monitorLog: string;
  env: NodeJS.ProcessEnv;
}

export interface StartedMonitor {
  pid: number;
  /** Its lines on the sync pipe ("pid N", then "started" or "failed STEP ERRNO"), once the pipe has closed. */
  said: Promise<string[]>;
}

export interface WaitStatus {
  /** Exit code when the process exited, else null. */
  code: number | null;
  /** Signal name when the process was killed, else null. */
  signal: NodeJS.Signals | null;
}

/** rtnetlink(7) requests as plain data: the message type, then its header's fields and attributes under the
 *  kernel's names (RTM_NEWLINK carries ifinfomsg's ifi_flags and IFLA_* attributes). Where the kernel wants an
 *  interface's index (ifa_index, IFLA_MASTER), a request names the interface, and native/src/netlink.cc asks the
 *  kernel its index (RTM_GETLINK); where it wants a namespace's fd (IFLA_NET_NS_FD), the namespace's file. */
export type RtnetlinkMessage =
  /** With IFLA_INFO_KIND a new link, a bridge or a veth pair (its other end in VETH_INFO_PEER); without, a change
   *  to the link IFLA_IFNAME names. IFLA_ADDRESS is a MAC address. */
  | { message: 'RTM_NEWLINK'; IFLA_IFNAME: string; IFLA_INFO_KIND?: 'bridge' | 'veth'; IFLA_ADDRESS?: string; IFLA_MTU?: number;
    IFLA_MASTER?: string; IFLA_NET_NS_FD?: string; ifi_flags?: Array<'IFF_UP'>; VETH_INFO_PEER?: VethPeer }
  /** An IPv4 address on a link: IFA_LOCAL, with ifa_prefixlen bits of it the subnet's. */
  | { message: 'RTM_NEWADDR'; ifa_index: string; ifa_prefixlen: number; IFA_LOCAL: string }
  /** The default route, through the gateway RTA_GATEWAY. */
  | { message: 'RTM_NEWROUTE'; RTA_GATEWAY: string }
  | { message: 'RTM_DELLINK'; IFLA_IFNAME: string };

/** A veth pair's other end: born in the namespace IFLA_NET_NS_FD when given. */
export interface VethPeer { IFLA_IFNAME: string; IFLA_ADDRESS?: string; IFLA_MTU?: number; IFLA_NET_NS_FD?: string }

/** Messages sent in order on one rtnetlink socket: in the host's network namespace, or in the one kept at `netns`. */
export interface RtnetlinkBatch { netns?: string; messages: RtnetlinkMessage[] }

/** A link of the host, from an RTM_GETLINK dump. */
export interface LinkInfo { index: number; ifname: string; mtu: number }
/** An IPv4 route of the host's main table, from an RTM_GETROUTE dump: oif is the index of the link it leaves by
 *  (0 when it names none). */
export interface RouteInfo { dst: string; oif: number }

export interface Syscalls {
  mount(source: string, target: string, fstype: string, flags: string[], data: string): void;
  umount2(target: string, flags: string[]): void;
  /** unshare(CLONE_NEWNET) on a short-lived thread, the new network namespace bind-mounted on `file` (an existing
   *  file, the mount point) so that it outlives the thread: `unshare --net=FILE` without the process. A refusal
   *  throws {code, syscall: 'unshare' | 'mount', path: file}. */
  unshare_CLONE_NEWNET(file: string): void;
  /** socket(AF_INET, type), made on a short-lived thread that joined the network namespace kept at `file`: the socket
   *  lives in that namespace. Close-on-exec. */
  socket_in_netns(file: string, type: 'SOCK_DGRAM' | 'SOCK_STREAM'): number;
  /** bind(2) of an AF_INET socket to address:port. */
  bind(fd: number, address: string, port: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** openat2(2): `path` opened from the directory `dirfd` under the `resolve` rules (e.g. RESOLVE_BENEATH,
   *  RESOLVE_NO_SYMLINKS); always close-on-exec. */
  openat2(dirfd: number, path: string, flags: Array<'O_RDONLY' | 'O_NONBLOCK' | 'O_NOFOLLOW' | 'O_DIRECTORY' | 'O_PATH'>,
    resolve: Array<'RESOLVE_BENEATH' | 'RESOLVE_IN_ROOT' | 'RESOLVE_NO_SYMLINKS' | 'RESOLVE_NO_MAGICLINKS' | 'RESOLVE_NO_XDEV'>): number;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  /** flock(fd, LOCK_EX | LOCK_NB): false when another process holds it. */
  flock(fd: number, operation: 'LOCK_EX' | 'LOCK_SH' | 'LOCK_UN', nonBlocking: boolean): boolean;
  /** Clone a child into new namespaces and run `steps` in it (see native/src/spawn.cc). */
  spawn(request: SpawnRequest): SpawnedChild;
  /** The clone flags and steps of a spawn, encoded for tsrun-monitor, which clones a detached container itself. */
  encodeSpawn(request: Pick<SpawnRequest, 'cloneFlags' | 'steps'>): Buffer;
  /** Start tsrun-monitor in a session of its own; it outlives tsrun. */
  spawnMonitor(request: MonitorRequest): StartedMonitor;
  /** waitpid(pid, 0) on a helper thread; resolves without blocking the event loop. */
  waitpid(pid: number): Promise<WaitStatus>;
  /** pipe2(O_CLOEXEC): [read end, write end]; the daemon's exec gives the child one end of each. */
  pipe(): [number, number];
  /** recvmsg(SCM_RIGHTS): one file descriptor passed over a unix socket. */
  recvfd(socketFd: number): number;
  /** socket(AF_UNIX, SOCK_STREAM) and connect(2) to `path`; the socket's fd, close-on-exec. */
  connect_unix(path: string): number;
  /** sendmsg(SCM_RIGHTS): `fd` over a unix socket, with `name` as the message's bytes. */
  sendfd(socketFd: number, fd: number, name: string): void;
  /** A terminal's settings (struct termios, as bytes), to restore them later. */
  tcgetattr(fd: number): Buffer;
  tcsetattr(fd: number, settings: Buffer): void;
  /** Settings with all input and output processing off (libc's cfmakeraw). */
  cfmakeraw(settings: Buffer): Buffer;
  /** ioctl(fd, TIOCSWINSZ): a terminal's window size. */
  ioctl_TIOCSWINSZ(fd: number, rows: number, cols: number): void;
  /** rtnetlink(7): the messages, each acknowledged before the next is sent; the first refusal throws
   *  ({code, errno, syscall: 'RTM_NEWLINK', path: the interface}). */
  rtnetlink(batch: RtnetlinkBatch): void;
  /** RTM_GETLINK dump: the host's links. */
  rtnetlink_getlink(): LinkInfo[];
  /** RTM_GETROUTE dump: the host's IPv4 routes ("default" or "A.B.C.D/N"). */
  rtnetlink_getroute(): RouteInfo[];
  /** The classic BPF program libseccomp makes of a resolved filter: struct sock_filter[], 8 bytes each. */
  seccomp_export_bpf(filter: SeccompFilter): Buffer;
  /** bpf(BPF_PROG_LOAD): an eBPF program checked by the kernel's verifier; its fd. A refusal's message carries the verifier's log. */
  bpf_prog_load(progType: 'BPF_PROG_TYPE_CGROUP_DEVICE', insns: Buffer, license: string): number;
  /** bpf(BPF_PROG_ATTACH): run the program for the cgroup whose directory targetFd is open on. */
  bpf_prog_attach(progFd: number, targetFd: number, attachType: 'BPF_CGROUP_DEVICE', flags: Array<'BPF_F_ALLOW_MULTI'>): void;
}
