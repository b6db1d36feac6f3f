// What a trace may say about the command line. A trace leaves the terminal: it
// is a file in ./traces/, a collector's, Jaeger's, an attachment to a bug
// report. So the root span records every flag by name, and the values of the
// harmless ones (--name, -p 8080:80, -v, --env-file's file name), but never a
// secret: for -e/--env only the variable's name, for login's password nothing,
// and no password written into an address (https://user:password@host).
// The container's own command, after the image, stays as typed: `docker
// inspect` shows it too, and it is what a reader of the trace came to see.
//
// Small and pure (request.ts, which it imports, imports nothing): setup.ts, in a
// bundle of its own, uses it for the root span; pull.ts and reference.ts for an
// image reference.
import { commandName } from './request.js';

const REDACTED = '<redacted>';

interface SecretFlag {
  long: string;
  short?: string;
  /** The commands where the short letter means something else, which is no secret. */
  shortElsewhere?: string[];
  /** What of a value may be shown. */
  shown: (value: string) => string;
}

// #region secret-flags
const SECRET_FLAGS: SecretFlag[] = [
  // -e KEY=VALUE: the variable's name, not its value. -e KEY alone (the value comes from tsrun's own
  // environment) is only a name. A --env-file's lines are never read into a span.
  { long: 'env', short: 'e', shown: (value) => value.includes('=') ? value.slice(0, value.indexOf('=') + 1) + REDACTED : value },
  // login -p/--password: nothing of it (--password-stdin's comes on stdin, never in a word). In run and
  // create, -p publishes a port; any other command's -p, a mistyped `login` too, is taken for a password.
  { long: 'password', short: 'p', shortElsewhere: ['run', 'create'], shown: () => REDACTED },
];

/** The words after `tsrun`, as a span may record them. Each word is judged by itself and the word before
 *  it, never by a parse that could go wrong: `-e -e K=V` or `-eK=V`, which tsrun may reject, are still
 *  hidden, and a word that only might be a secret is hidden too. From `containerCommandAt` on, the words
 *  are the container's command and stay as they are. */
export function redactArgs(args: string[], containerCommandAt = args.length): string[] {
  const command = commandName(args);
  const flags: SecretFlag[] = SECRET_FLAGS.map((flag) => ({ ...flag, short: flag.shortElsewhere?.includes(command) ? undefined : flag.short }));
  return args.map((word, i) => {
    if (i >= containerCommandAt) return word;
    const flagBefore = i > 0 ? flags.find((flag) => takesNextWord(args[i - 1]!, flag)) : undefined;
    if (flagBefore) return flagBefore.shown(word);
    const attached = attachedValue(word, flags);
    if (attached) return word.slice(0, word.length - attached.value.length) + attached.flag.shown(attached.value);
    return withoutPassword(word);
  });
}
// #endregion

/** `--env`, `-e`, or short flags ending in e (`-ie`): the next word is the value. */
function takesNextWord(word: string, { long, short }: SecretFlag): boolean {
  return word === `--${long}` || (short !== undefined && /^-[A-Za-z]+$/.test(word) && word.endsWith(short));
}

/** The value inside the word itself: `--env=V`, `--env.V` (yargs' dot notation), `-eV`, `-e=V`, `-ieV`. */
function attachedValue(word: string, flags: SecretFlag[]): { flag: SecretFlag; value: string } | undefined {
  const long = flags.find((flag) => word.startsWith(`--${flag.long}=`) || word.startsWith(`--${flag.long}.`));
  if (long) return { flag: long, value: word.slice(long.long.length + 3) };
  if (!/^-[^-]/.test(word)) return undefined;
  // Short flags: the first letter that takes a value takes the rest of the word (in -phunter2, the e is the password's).
  for (let at = 1; at < word.length && word[at] !== '='; at++) {
    const flag = flags.find((f) => f.short === word[at]);
    if (!flag) continue;
    if (at === word.length - 1) return undefined; // -e alone: the value is the next word
    return { flag, value: word.slice(word[at + 1] === '=' ? at + 2 : at + 1) };
  }
  return undefined;
}

// user:password@ at the start of a word, after a scheme (https://) or not; but name:tag@sha256:… is a
// reference with a tag and a digest, not a password.
const ADDRESS_PASSWORD = /^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/@:]*:)[^/@]*(?=@(?![\w+.-]+:[0-9a-f]{32,}$))/i;

/** `word` with the password of a `user:password@host` in it replaced by <redacted>. */
export function withoutPassword(word: string): string {
  return word.replace(ADDRESS_PASSWORD, `$1${REDACTED}`);
}
