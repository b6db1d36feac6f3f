// Every error tsrun reports is built here, so that one table decides the exit
// code, the way `docker run` does:
//
//   kind            exit  meaning
//   runtime         125   tsrun itself failed (bad flag, unknown image, name in use, a step failed)
//   cannot-exec     126   the command exists but cannot be executed
//   not-found       127   the command does not exist in the container
//
// A message is one line: what went wrong, then (after " — ") what to do.
import os from 'node:os';

export type ErrorKind = 'runtime' | 'cannot-exec' | 'not-found';

export const EXIT_CODES: Record<ErrorKind, number> = {
  'runtime': 125,
  'cannot-exec': 126,
  'not-found': 127,
};

export class TsrunError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  /** What went wrong, for a caller that acts on it (hasErrorCode), as a system error's ENOSPC: a registry's
   *  MANIFEST_UNKNOWN, which the daemon answers with 404 as dockerd does. */
  readonly code: string | undefined;

  constructor(message: string, options: { kind?: ErrorKind; hint?: string; cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsrunError';
    this.kind = options.kind ?? 'runtime';
    this.hint = options.hint;
    this.code = options.code;
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}

/** "ENOEXEC" for 8, as the kernel's headers name an errno: os.constants.errno knows every name, where libuv's
 *  util.getSystemErrorName does not know ENOEXEC. */
export function errnoName(errno: number): string {
  return Object.entries(os.constants.errno).find(([, number]) => number === errno)?.[0] ?? `errno ${errno}`;
}

/** Shorthand for the common case: a runtime error with a hint. */
export function fail(message: string, hint?: string, cause?: unknown): TsrunError {
  return new TsrunError(message, { hint, cause });
}

/** Add context in front of a lower-level error, keeping it as the cause:
 *  "create rw layer: mount overlay on /x: EINVAL". */
export function withContext(context: string, error: unknown): TsrunError {
  if (error instanceof TsrunError) {
    return new TsrunError(`${context}: ${error.message}`, { kind: error.kind, hint: error.hint, cause: error });
  }
  return new TsrunError(`${context}: ${errorText(error)}`, { cause: error });
}

/** Does this error, or any error it was caused by, carry the system error code `code` (ENOSPC, …)? */
export function hasErrorCode(error: unknown, code: string): boolean {
  for (let at = error; at instanceof Error; at = at.cause) {
    if ((at as NodeJS.ErrnoException).code === code) return true;
  }
  return false;
}

/** The short text of any error: Node-shaped system errors become "syscall path: CODE". */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const sys = error as NodeJS.ErrnoException;
    if (sys.code && sys.syscall) return `${sys.syscall}${sys.path ? ' ' + printable(sys.path) : ''}: ${sys.code}`;
    return error.message;
  }
  return String(error);
}

/** What to do about a full disk, wherever tsrun met it without saying more. */
const DISK_FULL_HINT = 'no space left on the device: free some space (`tsrun system df` shows what tsrun keeps), then try again';

/** Text from outside (a path, a media type from a registry) as a message shows it: as it is, unless it
 *  holds a control character (an image may name a file "a\nb"): then JSON-quoted, so that the message
 *  stays one line. */
export function printable(text: string): string {
  return /[\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text) : text;
}

/** The single line printed for an error, with its hint. */
export function formatError(error: unknown): string {
  const text = error instanceof TsrunError ? error.message : errorText(error);
  const hint = (error instanceof TsrunError ? error.hint : undefined) ?? (hasErrorCode(error, 'ENOSPC') ? DISK_FULL_HINT : undefined);
  return `tsrun: ${text}${hint ? ` — ${hint}` : ''}`;
}

export function exitCodeOf(error: unknown): number {
  return error instanceof TsrunError ? error.exitCode : EXIT_CODES.runtime;
}
