// The keys that let a terminal go of a container and leave it running: ctrl-p ctrl-q unless --detach-keys says
// otherwise, as Docker's. Watched in what the user types into a container with a terminal; the keys themselves
// never reach the container, and a sequence begun but not finished is passed on as typed.
import { fail } from '../errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" as bytes: a letter stands for itself; ctrl- and a-z, @, [, \, ], ^ or _ for its control code. */
export function parseDetachKeys(text: string): number[] {
  if (text === '') return []; // detaching turned off
  return text.split(',').map((key) => {
    if (/^[a-zA-Z]$/.test(key)) return key.charCodeAt(0);
    const control = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (control) return control[1]!.toUpperCase().charCodeAt(0) & 0x1f;
    throw fail(`invalid detach keys "${text}": "${key}" is not a key`, 'write keys like ctrl-p,ctrl-q or a letter: a-z, A-Z, or ctrl- with a-z, @, [, \\, ], ^ or _');
  });
}

// #region detach-keys
/** Fed what the user types: what to pass on to the container, and whether the whole sequence has been typed. */
export class DetachWatcher {
  private held: number[] = [];

  constructor(private readonly keys: number[]) {}

  take(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const forward: number[] = [];
    for (const byte of chunk) {
      if (this.keys.length === 0) {
        forward.push(byte);
        continue;
      }
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(forward), detach: true };
        continue;
      }
      // Not the sequence after all: what was held back goes on, and this byte may begin it again.
      forward.push(...this.held);
      this.held = [];
      if (byte === this.keys[0]) this.held.push(byte);
      else forward.push(byte);
    }
    return { forward: Buffer.from(forward), detach: false };
  }
}
// #endregion
