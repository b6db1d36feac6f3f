// tsrun network prune: remove the default bridge, its NAT table and its state when no container uses them.
import type { CommandModule } from 'yargs';

interface NetworkArgs { root?: string; action: string }

export const networkCommand: CommandModule<object, NetworkArgs> = {
  command: 'network <action>',
  describe: 'Manage networks (prune: remove the default bridge when no container uses it)',
  builder: (yargs) => yargs.positional('action', { choices: ['prune'] as const, describe: 'What to do' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { runCommand } = await import('../../net/command.js');
    const { pruneDefaultBridge } = await import('../../net/default-bridge.js');
    const { HOST_NETWORK_DIR } = await import('../../net/ipam.js');
    const runtime = runtimeFor(argv);
    const pruned = await pruneDefaultBridge(runtime.sys, { run: runCommand, stateDir: HOST_NETWORK_DIR });
    process.stdout.write(pruned ? 'Removed the default bridge tsrun0 and its NAT rules\n' : 'tsrun0 stays: containers still use it\n');
  },
};
