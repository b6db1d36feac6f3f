// The same rules as nat.ts, for hosts where only iptables works (an older
// kernel without nf_tables, or a distribution that keeps to iptables). tsrun
// keeps its rules in chains of its own, TSRUN-*, reached by one jump from
// each built-in chain it needs, so `iptables -t nat -S TSRUN-POSTROUTING`
// shows them and removing them touches nobody else's rules.
import type { CommandRunner } from './command.js';
import { isLoopback, type NatNetwork, type PublishedRule } from './nat.js';

/** Built-in chain -> tsrun's chain, per table. */
const JUMPS = [
  { table: 'raw', from: 'PREROUTING', to: 'TSRUN-PREROUTING' },
  { table: 'nat', from: 'PREROUTING', to: 'TSRUN-PREROUTING' },
  { table: 'nat', from: 'OUTPUT', to: 'TSRUN-OUTPUT' },
  { table: 'nat', from: 'POSTROUTING', to: 'TSRUN-POSTROUTING' },
  { table: 'filter', from: 'FORWARD', to: 'TSRUN-FORWARD' },
] as const;

// #region iptables-rules
/** iptables-restore input that replaces the contents of tsrun's chains (and nothing else, with --noflush). */
export function iptablesRules(networks: NatNetwork[]): string {
  const published = networks.flatMap((network) => network.published);
  const dnatOf = ({ mapping, address }: PublishedRule) => {
    const toHost = mapping.hostIp === '' ? '-m addrtype --dst-type LOCAL' : `-d ${mapping.hostIp}/32`;
    return `${toHost} -p ${mapping.protocol} --dport ${mapping.hostPort} -j DNAT --to-destination ${address}:${mapping.containerPort}`;
  };
  const bridges = networks.map((network) => network.bridge);
  const chains = (table: string) => JUMPS.filter((jump) => jump.table === table).flatMap((jump) => [`:${jump.to} - [0:0]`, `-F ${jump.to}`]);
  return [
    '*raw',
    ...chains('raw'),
    '-A TSRUN-PREROUTING ! -i lo -d 127.0.0.0/8 -j DROP',
    'COMMIT',
    '*nat',
    ...chains('nat'),
    ...published.filter(({ mapping }) => !isLoopback(mapping.hostIp)).map((rule) => `-A TSRUN-PREROUTING ${dnatOf(rule)}`),
    ...published.map((rule) => `-A TSRUN-OUTPUT ${dnatOf(rule)}`),
    ...networks.flatMap(({ bridge, subnet }) => [
      `-A TSRUN-POSTROUTING -s ${subnet} ! -o ${bridge} -j MASQUERADE`,
      `-A TSRUN-POSTROUTING -s 127.0.0.0/8 -o ${bridge} -j MASQUERADE`,
    ]),
    'COMMIT',
    '*filter',
    ...chains('filter'),
    ...bridges.flatMap((bridge) => bridges.filter((other) => other !== bridge).map((other) => `-A TSRUN-FORWARD -i ${bridge} -o ${other} -j DROP`)),
    ...bridges.flatMap((bridge) => [
      `-A TSRUN-FORWARD -o ${bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-A TSRUN-FORWARD -o ${bridge} -m conntrack --ctstate DNAT -j ACCEPT`,
      `-A TSRUN-FORWARD -i ${bridge} -o ${bridge} -j ACCEPT`,
      `-A TSRUN-FORWARD -o ${bridge} -j DROP`,
    ]),
    'COMMIT',
    '',
  ].join('\n');
}
// #endregion

export async function installIptables(run: CommandRunner, networks: NatNetwork[]): Promise<void> {
  await run(['iptables-restore', '--noflush'], iptablesRules(networks));
  for (const { table, from, to } of JUMPS) {
    if (!(await hasJump(run, table, from, to))) await run(['iptables', '-t', table, '-I', from, '-j', to]);
  }
}

/** Take the jumps out, then empty and delete tsrun's chains. */
export async function removeIptables(run: CommandRunner): Promise<void> {
  for (const { table, from, to } of JUMPS) {
    if (!(await chainExists(run, table, to))) continue;
    while (await hasJump(run, table, from, to)) await run(['iptables', '-t', table, '-D', from, '-j', to]);
    await run(['iptables', '-t', table, '-F', to]);
    await run(['iptables', '-t', table, '-X', to]);
  }
}

async function hasJump(run: CommandRunner, table: string, from: string, to: string): Promise<boolean> {
  return succeeds(run, ['iptables', '-t', table, '-C', from, '-j', to]);
}

async function chainExists(run: CommandRunner, table: string, chain: string): Promise<boolean> {
  return succeeds(run, ['iptables', '-t', table, '-S', chain]);
}

async function succeeds(run: CommandRunner, argv: string[]): Promise<boolean> {
  try {
    await run(argv);
    return true;
  } catch {
    return false;
  }
}
