// `tsrun run --step`: pause before each stage until the student presses Enter,
// so they can look at the host between steps. The keypress is read from the
// controlling terminal (/dev/tty), not stdin, which may belong to the container.
import fs from 'node:fs';
import tty from 'node:tty';
import type { RunObserver, StageName } from '../container.js';
import { fail } from '../errors.js';

const LAST_STAGE: StageName = 'exec';

export function stepObserver(inner: RunObserver, write: (text: string) => void = (text) => process.stderr.write(text)): RunObserver {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r');
  } catch (error) {
    throw fail('--step needs a terminal to wait for Enter on, and there is none', 'run tsrun from a terminal, or drop --step', error);
  }
  const terminal = new tty.ReadStream(fd);
  terminal.pause();

  return {
    ...inner,
    async stageStarting(stage) {
      await inner.stageStarting?.(stage);
      write(`   … press Enter to run this stage (Ctrl-C to stop) `);
      await new Promise<void>((resolve) => {
        terminal.once('data', () => { terminal.pause(); resolve(); });
        terminal.resume();
      });
      // After the last pause the terminal is the container's again.
      if (stage === LAST_STAGE) terminal.destroy();
    },
  };
}
