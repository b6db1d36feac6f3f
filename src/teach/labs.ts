// The labs: each one breaks one stage of tsrun in a working copy, on purpose,
// and checks from the outside — by starting containers and looking at the
// host — whether the student has mended it. A lab names the region of the
// real source it changes and the exact text it takes out, so a lab can never
// silently drift from the code (a test checks every one). Lab 11 breaks a Dockerfile instead, the lab app's
// in lessons/labs/, and checks it by building it with the student's tsrun.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fail } from '../errors.js';
import { buildDemoImage, buildLayersImage } from '../image/demo.js';

/** What a check is given: the student's tsrun, with a store that holds the demo image. */
export interface LabContext {
  /** Run the student's tsrun (synchronously) with the lab's store. */
  tsrun(args: string[], env?: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string };
  /** Start the student's tsrun in the background (killed after a minute at the latest). */
  tsrunInBackground(args: string[], env?: NodeJS.ProcessEnv): BackgroundProcess;
  /** The lab's store (TSRUN_ROOT) and a scratch directory. */
  root: string;
  scratch: string;
  /** The student's working copy, where a lab that changes other files than tsrun's finds them. */
  workingCopy: string;
}

export interface ProcessResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface BackgroundProcess {
  /** Resolves, with what it printed, when it has ended. */
  exited: Promise<ProcessResult>;
  /** What it has printed so far (stderr, then stdout). */
  output(): string;
  /** SIGTERM, then its end. */
  stop(): Promise<ProcessResult>;
}

export interface LabCheck {
  name: string;
  /** Resolves to an empty string when the check passes, else what was seen. */
  run(context: LabContext): Promise<string>;
  hint: string;
}

export interface Lab {
  id: number;
  name: string;
  stage: string;
  title: string;
  /** What the student is asked to do, in two or three sentences. */
  task: string;
  /** The change that makes the starting point: inside `region` of `file`, `remove` becomes `insert`. */
  file: string;
  region: string;
  remove: string;
  insert: string;
  /** A fix a student might try that is not the fix (written in place of `insert`): some check must reject it. */
  wrongFix: { text: string; why: string };
  checks: LabCheck[];
}

const DEMO = 'tsrun-demo';
const LAYERS = 'tsrun-layers';
/** Where lab 11's app is, in the repository and in a working copy. */
const LAB_APP = 'lessons/labs/11-build-cache';
/** The line lab 11's check adds to app.sh. */
const CHANGED = 'changed by tsrun lab check';

export const LABS: Lab[] = [
  {
    id: 1,
    name: 'environment',
    stage: 'create',
    title: 'The -e flag is ignored',
    task: 'tsrun run -e GREETING=hello does not give the container GREETING. Find where create builds the environment and make -e flags count, after the image\'s Env, so that they win.',
    file: 'src/stages/create.ts',
    region: 'environment',
    remove: '  for (const entry of request.env) add(entry);\n',
    insert: '  // TODO(lab 1): the -e flags (request.env) never reach the container. Add them last, so they win.\n',
    wrongFix: {
      text: "  for (const entry of request.env) if (!env.has(entry.slice(0, entry.indexOf('=')))) add(entry);\n",
      why: "the -e flags count only where the image sets nothing: the image's value still wins",
    },
    checks: [
      {
        name: '-e sets a variable',
        hint: 'request.env holds the -e flags; `add` takes one KEY=VALUE entry.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '-e', 'GREETING=hello', DEMO, 'sh', '-c', 'echo $GREETING']), 'hello\n'),
      },
      {
        name: '-e wins over the image\'s own value',
        hint: 'Later entries replace earlier ones: add the -e flags after the image\'s Env.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '-e', 'PATH=/bin', DEMO, 'sh', '-c', 'echo $PATH']), '/bin\n'),
      },
    ],
  },
  {
    id: 2,
    name: 'rwlayer',
    stage: 'rwlayer',
    title: 'Writes go into the image',
    task: 'The container\'s root is the image\'s top layer itself, bind-mounted: whatever a container writes changes the image for every later container. Give the container an overlay with an upper directory of its own.',
    file: 'src/stages/rwlayer.ts',
    region: 'rwlayer',
    remove: "    steps: [{ op: 'mount', source: 'overlay', target: mountpoint, fstype: 'overlay', flags: [], data }],\n",
    insert: "    // TODO(lab 2): this mounts the image's top layer itself as the root, so writes land in the image.\n"
      + "    // Mount an overlay instead: `data` already says which lower, upper and work directories to use.\n"
      + "    steps: [{ op: 'mount', source: lowerdirs[0]!, target: mountpoint, fstype: '', flags: ['MS_BIND'], data: '' }],\n",
    wrongFix: {
      text: "    steps: [{ op: 'mount', source: 'overlay', target: mountpoint, fstype: 'overlay', flags: ['MS_RDONLY'], data }],\n",
      why: "an overlay, but read-only: the image is safe, and the container cannot write at all",
    },
    checks: [
      {
        name: 'a file written in one container is not in the next one',
        hint: 'A bind mount of a layer writes into that layer. overlayfs (fstype "overlay") sends writes to upperdir.',
        run: async ({ tsrun }) => {
          const write = tsrun(['run', '--rm', DEMO, 'sh', '-c', 'echo leaked > /lab-proof']);
          if (write.status !== 0) return `writing /lab-proof failed: ${write.stderr.trim()}`;
          const read = tsrun(['run', '--rm', DEMO, 'sh', '-c', 'cat /lab-proof 2>/dev/null || echo clean']);
          return expectOutput(read, 'clean\n');
        },
      },
      {
        name: 'a stopped container keeps its own changes',
        hint: 'The upper directory belongs to the container and stays until `tsrun rm`.',
        run: async ({ tsrun }) => {
          // The second start reads what the first wrote: only the container's own upper directory can still hold it.
          tsrun(['run', '--name', 'lab-keeper', DEMO, 'sh', '-c', 'test -e /kept && cat /kept || echo mine > /kept']);
          const again = tsrun(['start', '-a', 'lab-keeper']);
          tsrun(['rm', 'lab-keeper']);
          return expectOutput(again, 'mine\n');
        },
      },
    ],
  },
  {
    id: 3,
    name: 'propagation',
    stage: 'namespaces',
    title: 'The container\'s mounts leak to the host',
    task: 'On a host whose mounts are shared (as systemd makes them), the overlay and /proc the child mounts show up in the host\'s own mount table. The child has its own mount namespace, but it forgot something before mounting. Find it and fix it.',
    file: 'src/stages/namespaces.ts',
    region: 'propagation',
    remove: "    { op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', 'MS_PRIVATE'], data: '' },\n",
    insert: '    // TODO(lab 3): a new mount namespace starts as a copy of the host\'s, with the same propagation.\n'
      + '    // Before mounting anything, make sure nothing mounted here propagates back (mount_namespaces(7)).\n',
    wrongFix: {
      text: "    { op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_PRIVATE'], data: '' },\n",
      why: "/ made private, but not recursively: the mounts below it still propagate",
    },
    checks: [
      {
        name: 'while a container runs, the host does not see its mounts',
        hint: 'mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL) — as a step: { op: \'mount\', … flags: [\'MS_REC\', \'MS_PRIVATE\'] }.',
        run: async ({ tsrunInBackground, scratch }) => {
          // The run root on a shared mount, as / is on a systemd host: a missing MS_PRIVATE shows.
          const runRoot = path.join(scratch, 'shared-run');
          fs.mkdirSync(runRoot, { recursive: true });
          const sh = (command: string) => spawnSync('sh', ['-c', command], { encoding: 'utf8' });
          sh(`mount -t tmpfs lab-shared ${runRoot} && mount --make-shared ${runRoot}`);
          try {
            // --network none: no namespace file under the run root, so only a leak counts.
            const container = tsrunInBackground(['run', '--rm', '--network', 'none', DEMO, 'sh', '-c', 'sleep 3; echo ran'], { TSRUN_RUN_ROOT: runRoot });
            await sleep(1500);
            const leaked = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(`${runRoot}/`));
            const ended = await container.exited; // let tsrun clean up after its container, as it always does
            if (leaked.length > 0) return `the host sees ${leaked.length} mount(s) of the container, e.g. ${leaked[0]!.split(' ')[4]}`;
            // A tsrun that failed before mounting anything leaks nothing either: the container must have run.
            return expectOutput(ended, 'ran\n');
          } finally {
            sh(`umount -R ${runRoot}`);
          }
        },
      },
    ],
  },
  {
    id: 4,
    name: 'hostname',
    stage: 'namespaces',
    title: 'Every container is called like the host',
    task: 'The container has a UTS namespace of its own, but nobody names it: `hostname` inside prints the host\'s name. Give the container its hostname (--hostname, or the first 12 characters of its id).',
    file: 'src/stages/namespaces.ts',
    region: 'hostname',
    remove: "    { op: 'sethostname', name: container.config.hostname }, // in the new UTS namespace: the host keeps its name\n",
    insert: '    // TODO(lab 4): the child has its own UTS namespace; name it with sethostname(2) — there is a step for that.\n',
    wrongFix: {
      text: "    { op: 'sethostname', name: container.id.slice(0, 12) },\n",
      why: "every container named after its id: --hostname is ignored",
    },
    checks: [
      {
        name: '--hostname names the container',
        hint: 'The steps the child can perform are listed in src/kernel/steps.ts.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--hostname', 'labbox', DEMO, 'hostname']), 'labbox\n'),
      },
      {
        name: 'the host keeps its own name',
        hint: 'sethostname must run in the child, inside its UTS namespace, never in tsrun itself.',
        run: async () => {
          const name = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
          return name === 'labbox' ? 'the host is now called labbox!' : '';
        },
      },
    ],
  },
  {
    id: 5,
    name: 'exit-codes',
    stage: 'exec',
    title: 'A missing command is tsrun\'s fault',
    task: 'When the command does not exist, tsrun exits 125, as if tsrun itself had failed. Docker exits 127 for "not found" and 126 for "cannot execute". Tell a failed execve apart from the other steps.',
    file: 'src/kernel/child.ts',
    region: 'exit-codes',
    remove: `  if (step?.op === 'execve') {
    if (code === 'ENOENT') {
      const where = command.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH';
      return new TsrunError(\`exec: "\${command}": \${where}\`, { kind: 'not-found', hint: 'check the command and the image\\'s PATH' });
    }
    const why = code === 'EACCES' ? 'permission denied' : code === 'ENOEXEC' ? 'exec format error' : code;
    return new TsrunError(\`exec: "\${command}": \${why}\`, { kind: 'cannot-exec', hint: 'the file must be an executable for this machine, with x permission' });
  }
`,
    insert: '  // TODO(lab 5): when the failed step is the execve, the command is at fault, not tsrun:\n'
      + '  // ENOENT means not found (127), EACCES or ENOEXEC cannot execute (126). See the kinds in src/errors.ts.\n',
    wrongFix: {
      text: "  if (step?.op === 'execve') return new TsrunError(`exec: \"${command}\": ${code}`, { kind: 'not-found' });\n",
      why: "every failed execve called \"not found\" (127), a file without x permission too",
    },
    checks: [
      {
        name: 'a missing command exits 127',
        hint: 'steps[failure.step].op tells which step failed; TsrunError takes a kind.',
        run: async ({ tsrun }) => expectStatus(tsrun(['run', '--rm', DEMO, 'no-such-command']), 127),
      },
      {
        name: 'a file that is not executable exits 126',
        hint: 'execve fails with EACCES for a file without x permission.',
        run: async ({ tsrun }) => expectStatus(tsrun(['run', '--rm', DEMO, '/etc/passwd']), 126),
      },
      {
        name: 'other failures stay tsrun\'s own (125)',
        hint: 'Only the execve step changes the exit code.',
        run: async ({ tsrun }) => expectStatus(tsrun(['run', '--rm', '-w', '/etc/passwd', DEMO, 'true']), 125),
      },
    ],
  },
  {
    id: 6,
    name: 'default-route',
    stage: 'network',
    title: 'The container cannot find its way out',
    task: 'A container on the bridge has eth0 and an address, so it can talk to its neighbours on 10.88.0.0/16, but it has no idea where to send anything else. Give it a default route through the bridge\'s address, the gateway.',
    file: 'src/net/veth.ts',
    region: 'connect',
    remove: "    { message: 'RTM_NEWROUTE', RTA_GATEWAY: c.gateway },\n",
    insert: "    // TODO(lab 6): packets for other networks need a way out: a default route through the gateway (c.gateway).\n",
    wrongFix: {
      text: "    { message: 'RTM_NEWROUTE', RTA_GATEWAY: c.address.split('/')[0]! },\n",
      why: "a default route through the container's own address, not the gateway",
    },
    checks: [
      {
        name: 'the container has a default route through the gateway',
        hint: 'An RTM_NEWROUTE message with RTA_GATEWAY, what `ip route add default via ADDRESS` sends: these messages go to the kernel inside the container\'s namespace.',
        run: async ({ tsrun }) => {
          const result = tsrun(['run', '--rm', DEMO, 'sh', '-c', 'ip route | grep "^default"']);
          return /^default via 10\.88\.0\.1 dev eth0/.test(result.stdout) ? '' : `ip route inside shows no default route via 10.88.0.1 (got ${JSON.stringify(result.stdout)}, exit ${result.status})`;
        },
      },
      {
        name: 'neighbours on the bridge are still reachable',
        hint: 'The route for the subnet itself comes with the address; only the default one is yours to add.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', DEMO, 'sh', '-c', 'ping -c 1 -W 2 10.88.0.1 >/dev/null && echo reached']), 'reached\n'),
      },
    ],
  },  {
    id: 7,
    name: 'digest',
    stage: 'pull',
    title: 'The pull believes whatever the registry sends',
    task: 'tsrun pull NAME@sha256:… asks for one exact manifest, but takes whatever bytes come back. A registry that is broken, or an attacker between you and it, can hand you another image. Check a manifest against the digest it was asked by (or that the registry claims) before using it.',
    file: 'src/registry/pull.ts',
    region: 'verify-manifest',
    remove: `  if (promised !== undefined && promised !== digest) {
    throw fail(\`manifest \${promised} does not match its digest: got \${digest}\`, CORRUPT);
  }
`,
    insert: '  // TODO(lab 7): `digest` is what the bytes hash to, `promised` what they should hash to.\n'
      + '  // When the two differ, refuse the manifest (fail(…, CORRUPT)) before anything uses it.\n',
    wrongFix: {
      text: "  if (fetched.claimedDigest !== undefined && fetched.claimedDigest !== digest) {\n    throw fail(`manifest ${fetched.claimedDigest} does not match its digest: got ${digest}`, CORRUPT);\n  }\n",
      why: "the registry's own claim checked, not the digest the manifest was asked by",
    },
    checks: [
      {
        name: 'a manifest that is not the one asked for is refused',
        hint: 'Compare the sha256 of the bytes with the digest in the reference; a tsrun error exits 125.',
        run: async ({ tsrunInBackground, scratch }) => withLabRegistry(scratch, { tamper: true }, async (name) => {
          const pulled = await tsrunInBackground(['pull', name]).exited;
          if (pulled.status === 125 && pulled.stderr.includes('does not match its digest')) return '';
          return `expected exit 125 and "does not match its digest", got exit ${pulled.status}: ${pulled.stderr.trim() || pulled.stdout.trim().split('\n').at(-1)}`;
        }),
      },
      {
        name: 'an honest registry\'s image still pulls',
        hint: 'Only a mismatch is an error: the digest of the bytes must equal the digest they were asked by.',
        run: async ({ tsrunInBackground, scratch }) => withLabRegistry(scratch, { tamper: false }, async (name) => {
          const pulled = await tsrunInBackground(['pull', '-q', name]).exited;
          return pulled.status === 0 ? '' : `the pull failed (exit ${pulled.status}): ${pulled.stderr.trim()}`;
        }),
      },
    ],
  },
  {
    id: 8,
    name: 'opaque',
    stage: 'layers',
    title: 'A replaced directory still shows its old files',
    task: 'The image tsrun-layers replaces /srv/scratch in its top layer: the tar holds srv/scratch/.wh..wh..opq, which means "hide what the layers below had here". tsrun unpacks the marker but never tells overlayfs, so old files show through. Mark the directory opaque the way overlayfs understands.',
    file: 'src/image/unpack.ts',
    region: 'whiteouts',
    remove: '  layer.sys.lsetxattr(at, OVERLAY_OPAQUE_XATTR, Buffer.from(OVERLAY_OPAQUE_VALUE));\n',
    insert: '  // TODO(lab 8): overlayfs hides the lower layers\' contents of a directory that carries an extended attribute.\n'
      + '  // Set it here (see src/image/whiteouts.ts for its name and value; there is a syscall for xattrs).\n',
    wrongFix: {
      text: "  layer.sys.lsetxattr(path.dirname(at), OVERLAY_OPAQUE_XATTR, Buffer.from(OVERLAY_OPAQUE_VALUE));\n",
      why: "the parent directory marked opaque instead: it hides its neighbours too",
    },
    checks: [
      {
        name: 'an opaque directory shows only its own files',
        hint: 'lsetxattr(2) on the directory: trusted.overlay.opaque = "y".',
        run: async ({ tsrun, scratch }) => {
          const loaded = await loadLayersImage(tsrun, scratch);
          return loaded || expectOutput(tsrun(['run', '--rm', '--network', 'none', LAYERS, 'ls', '/srv/scratch']), 'fresh.txt\n');
        },
      },
      {
        name: 'deleted files stay deleted, and the rest stays',
        hint: 'Whiteouts (.wh.NAME) are a different marker: a character device 0:0. Do not change them.',
        run: async ({ tsrun, scratch }) => {
          const loaded = await loadLayersImage(tsrun, scratch);
          return loaded || expectOutput(tsrun(['run', '--rm', '--network', 'none', LAYERS, 'ls', '/srv/notes']), 'welcome.txt\n');
        },
      },
    ],
  },
  {
    id: 9,
    name: 'bounding-set',
    stage: 'confinement',
    title: 'The container\'s root can mount again',
    task: 'Inside a container, `mount -t tmpfs none /tmp` works, and /proc/self/status shows every capability in CapBnd. The child hands the container Docker\'s 14 capabilities with capset, and yet after execve its root has them all. Find what is missing, and remember that execve computes root\'s capabilities again.',
    file: 'src/security/confinement.ts',
    region: 'confinement',
    remove: "      { op: 'capbset_drop', caps: notKept },\n",
    insert: "      // TODO(lab 9): notKept lists the capabilities the container must never have. For root, execve gives back\n"
      + "      // whatever is in the bounding set (capabilities(7)); take them out of it while the child still holds CAP_SETPCAP.\n",
    wrongFix: {
      text: "      { op: 'capbset_drop', caps: ['CAP_SYS_ADMIN'] },\n",
      why: "only CAP_SYS_ADMIN taken out of the bounding set: mount is refused, the other capabilities stay",
    },
    checks: [
      {
        name: 'the container\'s root cannot mount',
        hint: 'mount(2) needs CAP_SYS_ADMIN, which is not among the 14. A step in src/kernel/steps.ts drops capabilities from the bounding set.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--network', 'none', DEMO, 'sh', '-c', 'mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo refused']), 'refused\n'),
      },
      {
        name: 'the bounding set is Docker\'s 14 (CapBnd 00000000a80425fb)',
        hint: 'Drop exactly the capabilities not kept: notKept.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--network', 'none', DEMO, 'sh', '-c', 'grep CapBnd /proc/self/status']), 'CapBnd:\t00000000a80425fb\n'),
      },
      {
        name: '--cap-add SYS_ADMIN still gives mount back',
        hint: 'The set to keep comes from the flags (caps): refusing mount some other way is not the fix.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--network', 'none', '--cap-add', 'SYS_ADMIN', DEMO, 'sh', '-c', 'mount -t tmpfs none /tmp && echo mounted']), 'mounted\n'),
      },
    ],
  },
  {
    id: 10,
    name: 'seccomp',
    stage: 'confinement',
    title: 'The seccomp filter is never loaded',
    task: 'tsrun compiles the container\'s seccomp profile, but the child never loads it unless no-new-privileges is set: /proc/self/status says Seccomp 0, and a profile that refuses mkdir lets mkdir through. Load the filter in the child, at a moment when the kernel allows it.',
    file: 'src/security/confinement.ts',
    region: 'confinement',
    remove: "      ...(plan.noNewPrivileges ? [] : loadFilter),\n",
    insert: "      // TODO(lab 10): without no_new_privs, the filter (loadFilter) is never loaded. Loading one takes CAP_SYS_ADMIN\n"
      + "      // or no_new_privs (seccomp(2)): find the last moment the child still holds CAP_SYS_ADMIN.\n",
    wrongFix: {
      text: "      { op: 'prctl', option: 'PR_SET_NO_NEW_PRIVS', value: 1 } as ChildStep, ...loadFilter,\n",
      why: "no_new_privs set for every container, so that the filter can load late: setuid programs lose their powers, which Docker's default does not do",
    },
    checks: [
      {
        name: 'a profile that refuses mkdir refuses it',
        hint: 'The seccomp step is already made (loadFilter); it must be among the child\'s steps.',
        run: async ({ tsrun, scratch }) => {
          const profile = path.join(scratch, 'no-mkdir.json');
          fs.writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
          return expectOutput(tsrun(['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${profile}`, DEMO, 'sh', '-c', 'mkdir /tmp/lab 2>&1 || true']),
            "mkdir: can't create directory '/tmp/lab': Permission denied\n");
        },
      },
      {
        name: 'a default container runs under Docker\'s profile (Seccomp 2), as root and as another user',
        hint: 'After setuid and capset, CAP_SYS_ADMIN is gone and the kernel refuses to load a filter (EPERM).',
        run: async ({ tsrun }) => {
          for (const user of ['0', '1000']) {
            const seen = expectOutput(tsrun(['run', '--rm', '--network', 'none', '-u', user, DEMO, 'sh', '-c', 'grep "^Seccomp:" /proc/self/status']), 'Seccomp:\t2\n');
            if (seen) return `as user ${user}: ${seen}`;
          }
          return '';
        },
      },
      {
        name: 'no_new_privs stays off unless asked (NoNewPrivs 0), as in Docker',
        hint: 'no_new_privs would let the filter load at any moment, but it also takes setuid programs\' powers away: by default it stays off.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--network', 'none', DEMO, 'sh', '-c', 'grep "^NoNewPrivs:" /proc/self/status']), 'NoNewPrivs:\t0\n'),
      },
      {
        name: 'seccomp=unconfined still runs without a filter',
        hint: 'Only a container with a profile gets the step: seccompFilter returns null for unconfined.',
        run: async ({ tsrun }) => expectOutput(tsrun(['run', '--rm', '--network', 'none', '--security-opt', 'seccomp=unconfined', DEMO, 'sh', '-c', 'grep "^Seccomp:" /proc/self/status']), 'Seccomp:\t0\n'),
      },
    ],
  },
  {
    id: 11,
    name: 'build-cache',
    stage: 'build',
    title: 'A code change installs everything again',
    task: 'The lab\'s app (lessons/labs/11-build-cache in your working copy) is built by a Dockerfile that copies every file, then installs the packages deps.txt lists. Change one line of app.sh and the slow install runs again. Order the Dockerfile so that a change to the code leaves the install CACHED, and the image still runs the new code with its packages.',
    file: `${LAB_APP}/Dockerfile`,
    region: 'order',
    remove: 'COPY deps.txt install.sh ./\nRUN sh install.sh deps.txt\nCOPY app.sh ./\n',
    insert: '# TODO(lab 11): a change to any file changes this COPY\'s checksum, so every step after it runs again, the\n'
      + '# install too. A step is CACHED when its parent is: copy what the install needs, install, then copy the code.\n'
      + 'COPY . ./\nRUN sh install.sh deps.txt\n',
    wrongFix: {
      text: 'COPY app.sh ./\nCOPY deps.txt install.sh ./\nRUN sh install.sh deps.txt\n',
      why: 'the files copied apart, but the app first: a change to it still reruns every step after it, the install too',
    },
    checks: [
      {
        name: 'after a change to app.sh, the install is CACHED',
        hint: 'A step\'s cache key holds its parent image: the install can be CACHED only if no step before it copies app.sh.',
        run: async (context) => {
          const app = labApp(context);
          const first = buildLabApp(context.tsrun, app);
          if (typeof first === 'string') return first;
          fs.appendFileSync(path.join(app, 'app.sh'), `echo "${CHANGED}"\n`);
          const again = buildLabApp(context.tsrun, app);
          if (typeof again === 'string') return again;
          const install = again.find((step) => / RUN .*install\.sh/.test(step.label));
          if (!install) return 'no step runs install.sh: the packages must still be installed by a RUN';
          const cached = again.filter((step) => step.cached).length;
          return install.cached ? '' : `the rebuild took ${cached} of ${again.length} steps from the cache, and "${install.label}" ran again`;
        },
      },
      {
        name: 'the image runs the changed app, with its packages',
        hint: 'Order the steps, leave none out: the image needs app.sh and the packages the install made.',
        run: async (context) => expectAppOutput(context, CHANGED),
      },
      {
        name: 'a change to deps.txt installs again',
        hint: 'The install must read the deps.txt copied just before it, so that a new package is installed.',
        run: async (context) => {
          const app = labApp(context);
          fs.appendFileSync(path.join(app, 'deps.txt'), 'lab-check 1.0\n');
          const built = buildLabApp(context.tsrun, app);
          if (typeof built === 'string') return built;
          const install = built.find((step) => / RUN .*install\.sh/.test(step.label));
          if (install?.cached) return `"${install.label}" was CACHED, though deps.txt changed`;
          return expectAppOutput(context, 'using lab-check 1.0');
        },
      },
    ],
  },
  {
    id: 12,
    name: 'wait-headers',
    stage: 'daemon',
    title: 'docker run hangs on tsrun\'s daemon',
    task: 'Against tsrun\'s daemon, `docker run` creates its container and then waits for ever: the container never starts. The CLI asks for the exit (POST /wait) before it sends /start, and sends /start only once that answer\'s headers have come. Send them at once; the body follows when the container has exited.',
    file: 'src/daemon/containers.ts',
    region: 'wait',
    remove: "  res.writeHead(200, { 'Content-Type': 'application/json' });\n  res.flushHeaders();\n",
    insert: '  // TODO(lab 12): `docker run` sends /start only once it has this answer\'s headers, which Node keeps until\n'
      + '  // the body is written, at the container\'s exit. Write the head (200, application/json) and send it now.\n',
    wrongFix: {
      text: "  res.writeHead(200, { 'Content-Type': 'application/json' });\n",
      why: 'the head written, but Node sends it with the first bytes of the body: nothing reaches the CLI before the exit',
    },
    checks: [
      {
        name: 'docker run --rm prints what the container wrote, and ends',
        hint: 'http.ServerResponse has flushHeaders(): the head goes out before any of the body.',
        run: async (context) => withLabDaemon(context, (docker) => expectOutput(docker(['run', '--rm', DEMO, 'echo', 'hello from the daemon']), 'hello from the daemon\n')),
      },
      {
        name: 'docker run exits with the container\'s own code, once it has exited',
        hint: 'The body is the exit: {"StatusCode": …} when the container has ended, not before.',
        run: async (context) => withLabDaemon(context, (docker) => expectStatus(docker(['run', '--rm', DEMO, 'sh', '-c', 'sleep 1; exit 3']), 3)),
      },
    ],
  },
];

/** The student's daemon on a socket in the scratch directory, and the docker CLI on it (each run killed after
 *  DOCKER_RUN_MS: a run that hangs is what lab 12 is about); the daemon stopped after. */
async function withLabDaemon(context: LabContext, check: (docker: (args: string[]) => ProcessResult) => string): Promise<string> {
  const cli = ['/usr/local/bin/docker', '/usr/bin/docker'].find((file) => fs.existsSync(file));
  if (!cli) return 'this lab needs the docker CLI: apt-get install docker.io';
  const socket = path.join(context.scratch, 'lab-daemon.sock');
  const daemon = context.tsrunInBackground(['daemon', '--host', `unix://${socket}`]);
  try {
    for (let tries = 0; tries < 100 && !fs.existsSync(socket); tries++) await sleep(100);
    if (!fs.existsSync(socket)) return `the daemon did not start: ${daemon.output().trim()}`;
    return check((args) => {
      const result = spawnSync(cli, ['-H', `unix://${socket}`, ...args], {
        encoding: 'utf8', timeout: DOCKER_RUN_MS, killSignal: 'SIGKILL', env: { ...process.env, DOCKER_CONFIG: path.join(context.scratch, 'docker-config') },
      });
      if (result.status === null) return { status: null, stdout: result.stdout, stderr: `docker ${args.join(' ')} did not end within ${DOCKER_RUN_MS / 1000} s` };
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    });
  } finally {
    await daemon.stop();
  }
}
const DOCKER_RUN_MS = 10_000;

function expectOutput(result: { status: number | null; stdout: string; stderr: string }, expected: string): string {
  if (result.stdout === expected && result.status === 0) return '';
  return `expected output ${JSON.stringify(expected)}, got ${JSON.stringify(result.stdout)} (exit ${result.status})${result.stderr ? `: ${result.stderr.trim()}` : ''}`;
}

function expectStatus(result: { status: number | null; stderr: string }, expected: number): string {
  return result.status === expected ? '' : `expected exit code ${expected}, got ${result.status}: ${result.stderr.trim()}`;
}

/** Run a command in the background; a check looks at the host (or serves it) while it runs, then waits for its end. */
export function backgroundProcess(command: string, args: string[], env: NodeJS.ProcessEnv): BackgroundProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<ProcessResult>((resolve) => child.on('close', (status) => {
    clearTimeout(timer);
    resolve({ status, stdout, stderr });
  }));
  return {
    exited,
    output: () => stderr + stdout,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Load tsrun-layers into the lab's store with the student's tsrun (their unpacking is what is checked). */
async function loadLayersImage(tsrun: LabContext['tsrun'], scratch: string): Promise<string> {
  const layout = path.join(scratch, 'layers-image');
  if (!fs.existsSync(layout)) await buildLayersImage(layout);
  const loaded = tsrun(['load', '-i', layout]);
  return loaded.status === 0 ? '' : `tsrun load of the tsrun-layers image failed: ${loaded.stderr.trim()}`;
}

/** A registry for one check, on a loopback port: it serves the demo image by the digest of its manifest,
 *  and with `tamper`, sends a changed manifest (still valid JSON, another image) in its place. */
async function withLabRegistry(scratch: string, options: { tamper: boolean }, check: (name: string) => Promise<string>): Promise<string> {
  const layout = path.join(scratch, `registry-image-${options.tamper ? 'tampered' : 'honest'}`);
  await buildDemoImage(layout);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifestDigest = index.manifests[0]!.digest;
  const blob = (digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
  const manifest = fs.readFileSync(blob(manifestDigest));
  const served = options.tamper
    ? Buffer.from(JSON.stringify({ ...JSON.parse(manifest.toString('utf8')), annotations: { 'lab.tsrun': 'not the image you asked for' } }))
    : manifest;
  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    if (url === '/v2/') return void response.writeHead(200).end('{}');
    if (url === `/v2/lab/demo/manifests/${manifestDigest}`) {
      return void response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(served);
    }
    const digest = /^\/v2\/lab\/demo\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url)?.[1];
    if (digest && fs.existsSync(blob(digest))) return void response.writeHead(200).end(fs.readFileSync(blob(digest)));
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await check(`127.0.0.1:${(server.address() as AddressInfo).port}/lab/demo@${manifestDigest}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}


/** Lab 11's app as the student left it, copied once into the scratch directory, where the checks change its files. */
function labApp({ workingCopy, scratch }: LabContext): string {
  const dir = path.join(scratch, 'lab-app');
  if (!fs.existsSync(dir)) fs.cpSync(path.join(workingCopy, LAB_APP), dir, { recursive: true });
  return dir;
}

/** `tsrun build` of lab 11's app, tagged lab-app: each step as its progress block names it, and whether it was
 *  CACHED; or what went wrong. */
function buildLabApp(tsrun: LabContext['tsrun'], dir: string): Array<{ label: string; cached: boolean }> | string {
  const built = tsrun(['build', '-t', 'lab-app', '--network', 'none', dir]);
  if (built.status !== 0) return `tsrun build of the lab's app failed (exit ${built.status}): ${built.stderr.trim().split('\n').slice(-3).join(' ')}`;
  const steps = new Map<string, { label: string; cached: boolean }>();
  for (const line of built.stderr.split('\n')) {
    const [, block, text] = /^#(\d+) (.*)$/.exec(line) ?? [];
    if (block === undefined || text === undefined) continue;
    const step = steps.get(block);
    if (!step) steps.set(block, { label: text, cached: false });
    else if (text === 'CACHED') step.cached = true;
  }
  return [...steps.values()].filter((step) => step.label !== 'exporting to image');
}

/** lab-app's output holds `line` and a line for each package the app's deps.txt lists. */
function expectAppOutput(context: LabContext, line: string): string {
  const ran = context.tsrun(['run', '--rm', '--network', 'none', 'lab-app']);
  const packages = fs.readFileSync(path.join(labApp(context), 'deps.txt'), 'utf8').split('\n').filter((entry) => entry.trim() !== '');
  const missing = [line, ...packages.map((entry) => `using ${entry}`)].filter((expected) => !ran.stdout.split('\n').includes(expected));
  if (ran.status === 0 && missing.length === 0) return '';
  return `tsrun run --rm lab-app printed ${JSON.stringify(ran.stdout)} (exit ${ran.status}${ran.stderr ? `: ${ran.stderr.trim()}` : ''}), without ${missing.map((text) => JSON.stringify(text)).join(', ')}`;
}

export function findLab(idOrName: string): Lab {
  const lab = LABS.find((l) => String(l.id) === idOrName || l.name === idOrName);
  if (!lab) throw fail(`there is no lab "${idOrName}"`, 'see `tsrun lab list`');
  return lab;
}
