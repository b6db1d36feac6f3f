// tsrun login [-u USER] [-p PASSWORD | --password-stdin] [REGISTRY]: check credentials and keep them.
import type { CommandModule } from 'yargs';

interface LoginArgs { root?: string; server?: string; username?: string; password?: string; 'password-stdin': boolean }

export const loginCommand: CommandModule<object, LoginArgs> = {
  command: 'login [server]',
  describe: 'Log in to a registry (default Docker Hub); the credentials are kept in <root>/config.json, mode 0600',
  builder: (yargs) => yargs
    .options({
      username: { alias: 'u', type: 'string', describe: 'Username' },
      password: { alias: 'p', type: 'string', describe: 'Password (visible to other users in ps: prefer --password-stdin)' },
      'password-stdin': { type: 'boolean', default: false, describe: 'Take the password from stdin' },
    })
    .positional('server', { type: 'string', describe: 'The registry: host[:port]' }) as never,
  handler: async (argv) => {
    const { fail } = await import('../../errors.js');
    const { registryDomain, login } = await import('../../registry/login.js');
    const { storePaths } = await import('../../store/paths.js');
    const domain = registryDomain(argv.server);
    if (!argv.username) throw fail('no username given', 'tsrun login -u USER --password-stdin REGISTRY');
    if (argv.password !== undefined && argv['password-stdin']) throw fail('--password and --password-stdin cannot go together', 'use one of them');
    const password = argv['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : argv.password;
    if (!password) throw fail('no password given', 'pipe it in with --password-stdin');
    if (process.getuid?.() !== 0) throw fail('tsrun login needs root: it writes tsrun\'s config', 'run it with sudo, or as root');
    await login(storePaths(argv.root), domain, { username: argv.username, password });
    process.stdout.write('Login Succeeded\n');
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
