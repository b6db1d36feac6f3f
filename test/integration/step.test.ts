// `--step` in a real terminal (tmux): tsrun waits before each stage until
// Enter, and after the last pause the terminal is the container's again.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDemoImage, TSRUN } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;
const hasTmux = (() => { try { execFileSync('tmux', ['-V']); return true; } catch { return false; } })();
const SOCKET = `tsrun-step-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'step');

/** Wait (up to 10 s) until the terminal shows `text` `count` times. */
async function waitFor(text: string, count = 1): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const shown = screen();
    if (shown.split(text).length - 1 >= count) return shown;
    await sleep(50);
  }
  throw new Error(`the terminal never showed "${text}" ${count} time(s):\n${screen()}`);
}

describe.skipIf(!asRoot || !hasTmux)('tsrun run --step in a terminal (as root)', () => {
  let root: string;
  beforeAll(async () => {
    root = await storeWithDemoImage('step');
  });
  afterEach(() => {
    try { tmux('kill-server'); } catch { /* already gone */ }
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('pauses before each of the six stages, then hands the terminal to the container', async () => {
    const command = `TSRUN_ROOT=${root} NO_COLOR=1 ${process.execPath} ${TSRUN} run --rm -it --step --explain --network none tsrun-demo sh -c 'read answer; echo got-$answer'`;
    tmux('new-session', '-d', '-s', 'step', '-x', '120', '-y', '50', command);
    tmux('set-option', '-t', 'step', 'remain-on-exit', 'on'); // keep the screen to read after tsrun exits (it waits on Enter first)
    const prompt = 'press Enter to run this stage';
    for (let stage = 1; stage <= 6; stage++) {
      const shown = await waitFor(prompt, stage);
      // Paused: the stage's results are not on the screen until Enter.
      expect(shown).toContain(`── ${stage}/6`);
      if (stage < 6) expect(shown).not.toContain(`── ${stage + 1}/6`);
      tmux('send-keys', '-t', 'step', 'Enter');
    }
    await waitFor('the container\'s own output follows');
    tmux('send-keys', '-t', 'step', 'hello', 'Enter');
    await waitFor('got-hello');
    // tsrun ends by itself (and cleans up) before the terminal goes away.
    const paneDead = () => tmux('display-message', '-p', '-t', 'step', '#{pane_dead}').trim() === '1';
    for (let i = 0; i < 200 && !paneDead(); i++) await sleep(50);
    expect(paneDead(), screen()).toBe(true);
    expect(screen()).toContain('the container\'s process exited with code 0');
  });
});
