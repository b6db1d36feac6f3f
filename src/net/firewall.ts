// Which firewall holds tsrun's rules: nftables (nat.ts writes its table), or
// iptables where only that works (iptables.ts). One door for both, so the
// rest of net/ never asks which.
import type { CommandRunner } from './command.js';
import { NAT_TABLE, natRuleset, type NatNetwork } from './nat.js';

/** nftables, unless the host has only iptables (or config.json's "firewall-backend" says iptables). */
export type FirewallBackend = 'nftables' | 'iptables';

/** Make tsrun's rules say exactly this: the rules of these networks, or none at all when there are none. */
export async function installNat(run: CommandRunner, networks: NatNetwork[], backend: FirewallBackend = 'nftables'): Promise<void> {
  if (networks.length === 0) await removeNat(run, backend);
  else if (backend === 'iptables') await (await import('./iptables.js')).installIptables(run, networks);
  else await run(['nft', '-f', '-'], natRuleset(networks));
}

export async function removeNat(run: CommandRunner, backend: FirewallBackend = 'nftables'): Promise<void> {
  if (backend === 'iptables') await (await import('./iptables.js')).removeIptables(run);
  else await run(['nft', '-f', '-'], `table ${NAT_TABLE}\ndelete table ${NAT_TABLE}\n`);
}
