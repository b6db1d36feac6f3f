// tsrun dns-server BRIDGE: not for people; the name server of one user network (src/net/dns-server.ts), started
// with the network's first container by src/net/dns.ts, which reads its first words on fd 3.
import type { CommandModule } from 'yargs';

export const dnsServerCommand: CommandModule<object, { root?: string; bridge: string }> = {
  command: 'dns-server <bridge>',
  describe: false,
  builder: (yargs) => yargs.positional('bridge', { type: 'string' }) as never,
  handler: async (argv) => {
    const fs = await import('node:fs');
    const { storePaths } = await import('../../store/paths.js');
    const { configFile, readJsonObject } = await import('../../store/config.js');
    const { networkHost, retireIdleNameServer } = await import('../../net/bridges.js');
    const { IDLE_GRACE_MS, controlSocket } = await import('../../net/dns.js');
    const { endWhenIdle, serveDns, upstreamsFrom } = await import('../../net/dns-server.js');
    const { realSyscalls } = await import('../../kernel/native.js');
    const paths = storePaths(argv.root);
    const host = networkHost(paths);
    let said = 'ready';
    try {
      const upstreams = upstreamsFrom(readJsonObject(configFile(paths))['dns-upstream'], fs.readFileSync('/etc/resolv.conf', 'utf8'));
      const server = await serveDns({ stateDir: host.stateDir, bridge: argv.bridge, upstreams, sys: realSyscalls, control: controlSocket(host.stateDir, argv.bridge) });
      // It ends itself once its network has been idle a while, or on SIGTERM (`network rm`): with its sockets
      // closed and the watch cancelled, nothing keeps the process alive.
      const retire = () => retireIdleNameServer(realSyscalls, host, argv.bridge, process.pid);
      const stopWatching = endWhenIdle(host.stateDir, argv.bridge, IDLE_GRACE_MS, retire, () => server.close());
      process.once('SIGTERM', () => { stopWatching(); server.close(); });
    } catch (error) {
      said = (error as Error).message;
      process.exitCode = 1;
    }
    fs.writeSync(3, `${said}\n`);
    fs.closeSync(3);
  },
};
