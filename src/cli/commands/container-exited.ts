// tsrun container-exited ID: not for people; what tsrun-monitor becomes when its container exits
// (native/src/monitor.cc). It records the exit, releases what the container held, and restarts it if asked.
import type { CommandModule } from 'yargs';

export const containerExitedCommand: CommandModule<object, { root?: string; id: string }> = {
  command: 'container-exited <id>',
  describe: false,
  builder: (yargs) => yargs.positional('id', { type: 'string' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { findContainer } = await import('../../store/containers.js');
    const { releaseRemoved } = await import('../../containers/lifecycle.js');
    const { detachedExited } = await import('../../containers/restart.js');
    const { startDetached } = await import('../../run.js');
    const runtime = runtimeFor(argv);
    const container = findContainer(runtime.paths, argv.id);
    // Removed meanwhile (rm -f of a monitor that was late): what it held must be freed all the same.
    if (!container) return releaseRemoved(runtime, argv.id);
    const again = await detachedExited(runtime, container);
    if (again) await startDetached(runtime, again);
  },
};
