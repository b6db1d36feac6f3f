// The commands the network stage runs, as an administrator would type them:
// nft(8) or iptables(8) for the firewall, and sysctl(8). (Links, addresses,
// routes and the namespace are system calls and rtnetlink messages, sent
// through Syscalls.) They all go through a runner, so unit tests can check the exact commands without root.
import { fail } from '../errors.js';

/** Runs argv (with `input` on stdin) and resolves to its stdout; a failure carries the tool's own message. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

export const runCommand: CommandRunner = async (argv, input) => {
  // Loaded at the first command: a run with --network none or host runs none.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(fail(`${argv[0]} not found`, 'install it (scripts/install.sh lists the packages tsrun needs)', error));
      }
      const said = stderr.trim().split('\n').filter(Boolean).join('; ');
      reject(fail(`${argv.join(' ')}: ${said || error.message}`, undefined, error));
    });
    // A command that exits without reading its input makes writing fail (EPIPE); its exit status says why.
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  });
};
