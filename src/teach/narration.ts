// What `tsrun run --explain` says about each stage: in one place per stage,
// next to nothing else, so a teacher can read (and fix) it all here. Every
// value shown is taken from what the stage really returned, and every
// command suggested is one a student can type as it is.
import { formatMapping } from '../net/ports.js';
import { describeMessage } from '../net/netlink.js';
import { errnoName } from '../errors.js';
import type { ContainerRecord, NamespacesPlan, NetworkPlan, ProcessPlan, RootfsPlan, StageName } from '../container.js';
import type { ImageRecord } from '../store/images.js';
import { describeStep } from '../kernel/steps.js';
import { formatDeviceRule } from '../security/devices.js';
import { capabilityMask } from '../security/capabilities.js';
import { seccompRefusals, type SeccompSummary } from '../security/confinement.js';

export interface StageNarration {
  title: string;
  /** The lesson that explains the stage (`tsrun lesson NAME`). */
  lesson: string;
  /** Two or three plain sentences: what the stage is about to do. */
  intro: string;
  /** The real values of this run, from what the stage returned. */
  values(result: unknown): Array<[string, string | string[]]>;
  /** Commands to look at the result from another terminal, once the container runs. */
  look(result: unknown, pid: number): string[];
}

/** "default profile, 1246 BPF instructions" and what it does to the system calls worth watching. */
function seccompSummary(seccomp: SeccompSummary, capabilities: string[]): string[] {
  const by = new Map<string, string[]>();
  for (const fate of seccompRefusals(seccomp, capabilities)) {
    const how = fate.action === 'conditional' ? 'depending on their arguments' : fate.action === 'SCMP_ACT_ERRNO' ? `with ${errnoName(fate.errno ?? 1)}` : `with ${fate.action}`;
    by.set(how, [...(by.get(how) ?? []), fate.name]);
  }
  return [`${seccomp.profile === 'default' ? 'default' : 'your'} profile, ${seccomp.instructions} BPF instructions`, ...[...by].map(([how, names]) => `refuses ${names.join(' ')} ${how}`)];
}

const shortDigest = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

export const NARRATION: Record<StageName, StageNarration> = {
  pull: {
    title: 'pull',
    lesson: 'pull',
    intro: 'First, tsrun needs the image: a stack of filesystem layers plus a config saying what to run. '
      + 'It looks the reference up in its store, where each layer is unpacked once, named by the digest of its content; '
      + 'a missing image is fetched from its registry, every byte checked against its digest.',
    values: (result) => {
      const image = result as ImageRecord;
      return [
        ['image id', image.id],
        ['tags', image.repoTags],
        ['layers', image.layers.map((layer) => `${shortDigest(layer.diffId)}  ${layer.mediaType}  ${layer.size} bytes`)],
      ];
    },
    look: () => ['tsrun images --digests'],
  },
  create: {
    title: 'create',
    lesson: 'create',
    intro: 'Next, tsrun turns the image and your flags into a container record: an id, a name, and the exact process to run. '
      + 'Nothing runs yet — a created container is only a few files on disk.',
    values: (result) => {
      const container = result as ContainerRecord;
      return [
        ['container id', container.id],
        ['name', container.name],
        ['command', container.config.argv.join(' ')],
        ['working dir', container.config.workingDir],
        ['user', container.config.user || '(root)'],
        ['environment', container.config.env],
      ];
    },
    look: () => ['tsrun ps -a'],
  },
  rwlayer: {
    title: 'rw layer',
    lesson: 'rwlayer',
    intro: 'The container\'s root filesystem will be an overlay: the image\'s layers below, read-only, and an empty '
      + '"upper" directory on top that takes every write. The child process mounts it inside its own mount namespace.',
    values: (result) => {
      const rootfs = result as RootfsPlan;
      return [['lowerdir (top first)', rootfs.lowerdirs], ['upperdir', rootfs.upperdir], ['workdir', rootfs.workdir], ['mount point', rootfs.mountpoint]];
    },
    look: (result, pid) => [`findmnt -N ${pid} /`, `ls -la ${(result as RootfsPlan).upperdir}`],
  },
  network: {
    title: 'network',
    lesson: 'network',
    intro: 'The container gets its place on a network before its process exists. On the default bridge, tsrun makes a '
      + 'network namespace (kept as a file), plugs it into the bridge tsrun0 with a veth pair, gives eth0 an address and '
      + 'a default route, each an rtnetlink message to the kernel; the process joins that namespace later. '
      + 'It also writes /etc/hostname, /etc/hosts and /etc/resolv.conf.',
    values: (result) => {
      const net = result as NetworkPlan;
      const bridge = net.bridge
        ? [['bridge', `${net.bridge.name} ${net.bridge.subnet}, gateway ${net.bridge.gateway}`], ['veth (host end)', net.bridge.hostInterface],
          ['namespace file ($NETNS)', net.namespaceFile ?? ''], ['mtu', String(net.bridge.mtu)],
          ['rtnetlink', net.bridge.netlink.flatMap((batch) => batch.messages.map((message) =>
            `${batch.netns ? 'in $NETNS: ' : ''}${describeMessage(message).split(net.namespaceFile!).join('$NETNS')}`))],
          ...(net.bridge.ports.length > 0 ? [['published', net.bridge.ports.map(formatMapping)]] : [])] as Array<[string, string | string[]]>
        : [];
      return [['mode', net.mode], ['interfaces', net.interfaces], ...bridge, ['hosts file', net.files.hosts], ['resolv.conf', net.files.resolvConf]];
    },
    look: (result, pid) => {
      const net = result as NetworkPlan;
      const inside = [`nsenter -t ${pid} -n ip address`, `nsenter -t ${pid} -n ip route`];
      return net.bridge ? [...inside, `bridge link show master ${net.bridge.name}`, 'nft list table ip tsrun'] : inside;
    },
  },
  namespaces: {
    title: 'namespaces',
    lesson: 'namespaces',
    intro: 'Now the plan for the child: which new namespaces clone() gives it, the cgroup that will hold it and its limits, '
      + 'and the list of steps it performs before running your command — private mounts, joining the cgroup, the overlay, '
      + '/proc, /sys, /dev, then pivot_root into the new root.',
    values: (result) => {
      const ns = result as NamespacesPlan;
      // Host paths under the new root are long; $ROOT reads better and is said once.
      const steps = ns.steps.map((step, i) => `${String(i + 1).padStart(2)}. ${describeStep(step).split(ns.root).join('$ROOT')}`);
      return [
        ['clone flags', ns.cloneFlags.join(' | ')], ['cgroup', ns.cgroup.dirs], ['limits', ns.cgroup.writes.map((w) => `${w.file} = ${w.value}`)],
        ['devices allowed', ns.cgroup.devices.map(formatDeviceRule)], ['$ROOT', ns.root], ['child steps', steps],
      ];
    },
    look: (_result, pid) => [`ls -l /proc/${pid}/ns`, `findmnt -N ${pid} -R`, `cat /proc/${pid}/cgroup`],
  },
  exec: {
    title: 'exec',
    lesson: 'exec',
    intro: 'Last, tsrun clones the child into its new namespaces. The child performs the steps, confines itself '
      + '(capabilities, seccomp), takes on the container\'s user and calls execve, through a sealed copy of tsrun-exec; '
      + 'tsrun waits for it and hands back its exit code.',
    values: (result) => {
      const proc = result as ProcessPlan;
      const { capabilities, noNewPrivileges, seccomp, rlimits } = proc.confinement;
      const caps = (set: string[]) => `${capabilityMask(set)}  ${set.map((cap) => cap.replace(/^CAP_/, '')).join(' ') || '(none)'}`;
      return [
        ['argv', JSON.stringify(proc.argv)],
        ['cwd', proc.cwd],
        ['uid / gid / groups', `${proc.uid} / ${proc.gid} / ${proc.groups.join(',')}`],
        ['PATH searched', proc.search.join(':')],
        ['CapBnd (bounding)', caps(capabilities.bounding)],
        ['CapEff (effective)', caps(capabilities.effective)],
        ['no_new_privs', noNewPrivileges ? '1' : '0'],
        ['seccomp', seccomp ? seccompSummary(seccomp, capabilities.bounding) : 'none: every system call is allowed'],
        ...(rlimits.length > 0 ? [['rlimits', rlimits.map((u) => `${u.name}=${u.soft}:${u.hard}`)] as [string, string[]]] : []),
      ];
    },
    look: (_result, pid) => [`ps -o pid,user,args -p ${pid}`, `nsenter -t ${pid} -a ps`, `grep -E 'Cap|NoNewPrivs|Seccomp' /proc/${pid}/status`],
  },
};
