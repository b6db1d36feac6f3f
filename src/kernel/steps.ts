// The operations the container's child process performs between clone() and
// execve(). They are built in TypeScript by the stages as plain data, printed
// by --explain, checked by tests, and executed one by one in C++ by
// native/src/child.cc, where only async-signal-safe calls are allowed.
// When a step fails, the child reports {step index, errno} and exits.

export type ChildStep = Step & {
  /** Skip the step when its path does not exist (ENOENT), e.g. masking a /proc file this kernel lacks. */
  optional?: boolean;
};

// #region in-root-steps
/** A step on the container's own files before pivot_root names the container's root here, and its paths are
 *  the container's ("/etc/hosts"): the child resolves them inside the root, as if it were "/" (openat2 with
 *  RESOLVE_IN_ROOT), so a symlink in the image ("/etc -> /home/teacher") cannot lead to the host's files. */
interface InRoot {
  root?: string;
}
// #endregion

/** A program run to its end by the child (an OCI bundle's hooks, src/oci/plan.ts). `state` is the container's state
 *  as JSON, which the hook gets on its standard input with a pid put in first: the child's own, as the container
 *  sees it (getpid(), as runc gives it). `timeout` in seconds, 0 for none. `name` is for people: what the hook is. */
export interface Hook {
  name: string;
  path: string;
  argv: string[];
  envp: string[];
  timeout: number;
  state: string;
}

type Step =
  /** With a root, `sourceInRoot` says the source is the container's too (a bind of its own file). */
  | { op: 'mount'; source: string; target: string; fstype: string; flags: string[]; data: string; sourceInRoot?: boolean } & InRoot
  | { op: 'umount2'; target: string; flags: string[] }
  | { op: 'pivot_root'; new_root: string; put_old: string }
  | { op: 'chdir'; path: string }
  /** The directory that "/" means to this process from now on; its mounts stay as they were (chroot(2)). */
  | { op: 'chroot'; path: string }
  | { op: 'mkdir'; path: string; mode: number } & InRoot
  /** Create an empty file to bind-mount onto (open O_CREAT, then close). */
  | { op: 'create_file'; path: string; mode: number } & InRoot
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number } & InRoot
  | { op: 'symlink'; target: string; linkpath: string } & InRoot
  | { op: 'sethostname'; name: string }
  /** The NIS domain name, as an OCI bundle's domainname sets it (in the new UTS namespace, as the hostname). */
  | { op: 'setdomainname'; name: string }
  /** The mask new files' modes are filtered through (device nodes need 0, programs expect 022). */
  | { op: 'umask'; mask: number }
  /** Bring a network interface up (ioctl SIOCSIFFLAGS with IFF_UP). */
  | { op: 'link_up'; name: string }
  /** Write `data` to a file that exists (e.g. "0" to a cgroup's tasks: "move me into this cgroup"). */
  | { op: 'write_file'; path: string; data: string }
  /** Leave the namespaces named for new ones of our own (unshare(2)). */
  | { op: 'unshare'; flags: string[] }
  /** Join an existing namespace through a file that refers to it (open, then setns(2)). */
  | { op: 'setns'; path: string; nstype: 'CLONE_NEWNET' | 'CLONE_NEWNS' | 'CLONE_NEWUTS' | 'CLONE_NEWIPC' | 'CLONE_NEWPID' | 'CLONE_NEWCGROUP' }
  /** Go on in a new process, made tsrun's child, and leave: a PID namespace joined with setns is entered
   *  by a process's children only. spawn returns the new process, the one that runs the command. */
  | { op: 'fork' }
  /** A new session, so the container's processes are not in tsrun's process group. */
  | { op: 'setsid' }
  | { op: 'setgroups'; gids: number[] }
  | { op: 'setgid'; gid: number }
  | { op: 'setuid'; uid: number }
  /** A pty opened in the container's devpts as the controlling
   *  terminal on 0/1/2; the master goes back to tsrun over the console socket. */
  | { op: 'open_pty'; rows: number; cols: number }
  /** prctl(PR_CAPBSET_DROP) for each: capabilities no process of the container can gain, not even by execve. */
  | { op: 'capbset_drop'; caps: string[] }
  /** capset(2): what the process may do now (effective), may take up (permitted) and hand on (inheritable). */
  | { op: 'capset'; effective: string[]; permitted: string[]; inheritable: string[] }
  /** prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE) for each: kept through execve (an OCI bundle may ask for them). */
  | { op: 'cap_ambient_raise'; caps: string[] }
  /** prctl(PR_SET_NO_NEW_PRIVS, 1): no execve can raise privileges from here on (setuid files, file capabilities).
   *  prctl(PR_SET_KEEPCAPS, 1): a switch away from uid 0 keeps the permitted set (for a user given capabilities). */
  | { op: 'prctl'; option: 'PR_SET_NO_NEW_PRIVS' | 'PR_SET_KEEPCAPS'; value: number }
  /** setrlimit(2); -1 is unlimited. */
  | { op: 'setrlimit'; resource: string; soft: number; hard: number }
  /** seccomp(SECCOMP_SET_MODE_FILTER): a BPF program (base64) the kernel runs on every system call from now on. */
  | { op: 'seccomp'; filter: string }
  /** execve, trying each directory of `search` in turn when `file` has no slash. The child execs
   *  tsrun-exec from a sealed copy in memory, and tsrun-exec does this (see native/src/exec.c). */
  /** `hooks`: run by tsrun-exec after the wait for start, before the command (an OCI bundle's startContainer hooks). */
  | { op: 'execve'; file: string; search: string[]; argv: string[]; envp: string[]; hooks?: Hook[] }
  /** See Hook; a hook that fails or outlives its timeout is a failed step. */
  | { op: 'run_hook' } & Hook;

/** One line per step, the way --explain and error messages show it. */
export function describeStep(step: ChildStep): string {
  return describe(step) + (step.optional ? ' (if it exists)' : '');
}

function describe(step: Step): string {
  // The container's paths shown where they are on the host, under the root (--explain writes $ROOT for it).
  const at = (p: string) => ('root' in step && step.root ? step.root + (p === '/' ? '' : p) : p);
  switch (step.op) {
    case 'fork': return 'fork, and go on in the new process (a child of tsrun\'s)';
    case 'mount': {
      const flags = step.flags.length ? ` (${step.flags.join('|')})` : '';
      const source = step.sourceInRoot ? at(step.source) : step.source;
      if (step.flags.includes('MS_REMOUNT')) return `remount ${at(step.target)}${flags}`;
      if (step.flags.includes('MS_MOVE')) return `move the mount at ${source} onto ${at(step.target)}`;
      if (!step.source && !step.fstype) return `change propagation of ${at(step.target)}${flags}`;
      if (step.flags.includes('MS_BIND')) return `bind ${source} on ${at(step.target)}${flags}`;
      return `mount ${step.fstype} on ${at(step.target)}${flags}${step.data ? ` -o ${step.data}` : ''}`;
    }
    case 'umount2': return `umount2 ${step.target}` + (step.flags.length ? ` (${step.flags.join('|')})` : '');
    case 'pivot_root': return `pivot_root ${step.new_root} ${step.put_old}`;
    case 'chdir': return `chdir ${step.path}`;
    case 'chroot': return `chroot ${step.path}`;
    case 'mkdir': return `mkdir ${at(step.path)}`;
    case 'create_file': return `create ${at(step.path)}`;
    case 'mknod': return `mknod ${at(step.path)} ${(step.mode & 0o170000) === 0o060000 ? 'b' : 'c'} ${step.major} ${step.minor}`;
    case 'symlink': return `symlink ${at(step.linkpath)} -> ${step.target}`;
    case 'sethostname': return `sethostname ${step.name}`;
    case 'setdomainname': return `setdomainname ${step.name}`;
    case 'umask': return `umask ${step.mask.toString(8).padStart(4, '0')}`;
    case 'link_up': return `ip link set ${step.name} up`;
    case 'setns': return `setns ${step.path} (${step.nstype})`;
    case 'write_file': return `echo ${step.data} > ${step.path}`;
    case 'unshare': return `unshare ${step.flags.join('|')}`;
    case 'setsid': return 'setsid';
    case 'setgroups': return `setgroups [${step.gids.join(',')}]`;
    case 'setgid': return `setgid ${step.gid}`;
    case 'setuid': return `setuid ${step.uid}`;
    case 'capbset_drop': return `drop from the bounding set: ${step.caps.map(short).join(' ') || '(nothing)'}`;
    case 'cap_ambient_raise': return `raise into the ambient set: ${step.caps.map(short).join(' ')}`;
    case 'capset': return `capset effective=${capList(step.effective)} permitted=${capList(step.permitted)} inheritable=${capList(step.inheritable)}`;
    case 'prctl': return `prctl ${step.option} ${step.value}`;
    case 'setrlimit': return `setrlimit ${step.resource} ${limit(step.soft)}:${limit(step.hard)}`;
    case 'seccomp': return `seccomp: load a filter of ${Buffer.from(step.filter, 'base64').length / 8} BPF instructions`;
    case 'open_pty': return `open a pty ${step.cols}x${step.rows} as the controlling terminal`;
    case 'execve': return `execve ${step.file} [${step.argv.join(' ')}] (through the sealed tsrun-exec${step.hooks?.length ? `, which first runs ${step.hooks.map(hookName).join(', ')}` : ''})`;
    case 'run_hook': return `run ${hookName(step)} [${step.argv.join(' ')}] with the state on its standard input${step.timeout ? `, for ${step.timeout} s at most` : ''}`;
  }
}

const hookName = (hook: Hook) => `the ${hook.name} hook ${hook.path}`;
const short = (cap: string) => cap.replace(/^CAP_/, '');
const capList = (caps: string[]) => (caps.length ? caps.map(short).join(',') : '(none)');
const limit = (n: number) => (n < 0 ? 'unlimited' : String(n));

// #region step-spans
/** In a list of steps, `{ span: NAME }` names the steps after it, up to the next name: the trace
 *  shows them as one span, timed by the child itself (src/trace/child-spans.ts). */
export interface SpanName {
  span: string;
}

/** The steps `first` to `first + count - 1` of a list, shown in the trace as the span `name`. */
export interface StepSpan {
  name: string;
  first: number;
  count: number;
}

/** The steps of a list with span names in it, and the spans the names make. */
export function stepsAndSpans(list: Array<ChildStep | SpanName>): { steps: ChildStep[]; spans: StepSpan[] } {
  const steps: ChildStep[] = [];
  const spans: StepSpan[] = [];
  for (const entry of list) {
    if ('span' in entry) spans.push({ name: entry.span, first: steps.length, count: 0 });
    else {
      steps.push(entry);
      if (spans.length > 0) spans[spans.length - 1]!.count++;
    }
  }
  return { steps, spans: spans.filter((span) => span.count > 0) };
}
// #endregion

/** A directory and each one above it, top down, for the mkdir steps that make a path: "/a/b" -> ["/a", "/a/b"]; "/" -> []. */
export function ancestors(dir: string): string[] {
  const parts = dir.split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}
