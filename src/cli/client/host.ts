// Which daemon a `tsrun` command talks to, if any. As with docker: the `--host` (`-H`) flag given before the command,
// then TSRUN_HOST, then DOCKER_HOST; none of them, and tsrun runs the command itself, with no daemon.
// Only daemonHost is needed to decide, and it loads nothing: the client (api.ts) is loaded when a daemon is named.
import { fail } from '../../errors.js';

/** Where the daemon listens: a unix socket, or a TCP port. */
export type DaemonAddress = { kind: 'unix'; path: string; text: string } | { kind: 'tcp'; host: string; port: number; text: string };

/** How to leave the daemon out, said by every refusal. */
export const DAEMONLESS_HINT = 'to run it without a daemon, unset TSRUN_HOST and DOCKER_HOST (and give no --host)';

/** These run in this process whatever host is named: they read no store, or are the daemon itself (and what its
 *  containers' monitors call back). */
export const ALWAYS_LOCAL = ['daemon', 'container-exited', 'dns-server', 'lesson', 'lab', 'trace', 'make-demo-image'];

// #region daemon-host
/** The daemon `args` name (and the arguments without the flag), or undefined for a daemonless command. */
export function daemonHost(args: string[], env: NodeJS.ProcessEnv): { host: string; args: string[] } | undefined {
  const [first, second] = args;
  let text: string | undefined;
  let rest = args;
  if (first === '--host' || first === '-H') [text, rest] = [second ?? '', args.slice(2)];
  else if (first?.startsWith('--host=')) [text, rest] = [first.slice('--host='.length), args.slice(1)];
  else text = env.TSRUN_HOST || env.DOCKER_HOST || undefined;
  const command = rest.find((word) => !word.startsWith('-'));
  if (text === undefined || (command !== undefined && ALWAYS_LOCAL.includes(command))) return undefined;
  return { host: text, args: rest };
}
// #endregion

/** unix:///PATH or tcp://HOST:PORT, as DOCKER_HOST spells them. */
export function parseDaemonAddress(text: string): DaemonAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (path.startsWith('/')) return { kind: 'unix', path, text };
  }
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(text);
  if (tcp && Number(tcp[2]) >= 1 && Number(tcp[2]) <= 65535) {
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: Number(tcp[2]), text };
  }
  throw fail(`cannot reach a daemon at "${text}"`, `name it as unix:///run/tsrun/tsrun.sock or tcp://127.0.0.1:PORT; ${DAEMONLESS_HINT}`);
}
