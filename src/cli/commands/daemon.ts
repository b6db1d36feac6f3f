// tsrun daemon [--host unix://PATH | tcp://127.0.0.1:PORT]: serve the Docker Engine API in the foreground, so
// that the docker CLI drives tsrun (`DOCKER_HOST=unix:///run/tsrun/tsrun.sock docker run --rm tsrun-demo echo hi`).
import type { CommandModule } from 'yargs';

interface DaemonArgs { root?: string; host: string; 'log-api': boolean }

const DEFAULT_HOST = 'unix:///run/tsrun/tsrun.sock';

export const daemonCommand: CommandModule<object, DaemonArgs> = {
  command: 'daemon',
  describe: 'Serve the Docker Engine API, for the docker CLI, until SIGTERM or SIGINT (containers keep running)',
  builder: (yargs) => yargs.options({
    host: { alias: 'H', type: 'string', default: DEFAULT_HOST, describe: 'Where to listen: unix:///PATH, or tcp://127.0.0.1:PORT (no TLS: loopback only)' },
    'log-api': { type: 'boolean', default: false, describe: 'Under each request\'s line, the JSON it carried and the JSON answered (no secrets, no empty fields)' },
  }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { parseHost, serve } = await import('../../daemon/server.js');
    const listen = parseHost(argv.host);
    const runtime = runtimeFor(argv);
    const say = (line: string) => void process.stderr.write(line + '\n');
    if (listen.kind === 'tcp') {
      // Docker's warning, in substance: the API has no login, and it runs anything as root.
      say(`tsrun: WARNING: the API on ${argv.host} has no TLS and asks for no password: every user of this machine who can connect to it can run anything as root`);
    }
    const daemon = await serve(runtime, listen, say, { logApi: argv['log-api'] });
    const where = listen.kind === 'systemd' ? 'the socket systemd passed' : `${argv.host}: DOCKER_HOST=${argv.host} docker …`;
    say(`tsrun: daemon listening on ${where} (store ${runtime.paths.root})`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, resolve);
    });
    say(`tsrun: ${signal}: stopping the daemon; its containers keep running`);
    await daemon.close();
  },
};
