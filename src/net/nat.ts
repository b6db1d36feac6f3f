// Outbound traffic: containers have private addresses, so the host forwards
// their packets and rewrites the source to its own address on the way out
// (masquerade), as a home router does. The rules live in a table of tsrun's
// own, `ip tsrun`, so `nft list table ip tsrun` shows all of them and
// deleting that one table removes them, leaving everyone else's rules alone.
import type { CommandRunner } from './command.js';

export const NAT_TABLE = 'ip tsrun';

// #region masquerade
export function natRuleset(subnet: string, bridge: string): string {
  return [
    // Declaring the table, then deleting it, makes "replace the whole table" one atomic transaction.
    `table ${NAT_TABLE}`,
    `delete table ${NAT_TABLE}`,
    `table ${NAT_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    // Leaving by any interface but the bridge itself: container-to-container traffic keeps its addresses.
    `    ip saddr ${subnet} oifname != "${bridge}" masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function installNat(run: CommandRunner, subnet: string, bridge: string): Promise<void> {
  await run(['nft', '-f', '-'], natRuleset(subnet, bridge));
}
// #endregion

export async function removeNat(run: CommandRunner): Promise<void> {
  await run(['nft', '-f', '-'], `table ${NAT_TABLE}\ndelete table ${NAT_TABLE}\n`);
}

/** Turn on IPv4 forwarding; returns the value it had before. */
export async function enableForwarding(run: CommandRunner): Promise<string> {
  const before = (await run(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim();
  if (before !== '1') await run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return before;
}

export async function restoreForwarding(run: CommandRunner, before: string): Promise<void> {
  if (before !== '1') await run(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${before}`]);
}
