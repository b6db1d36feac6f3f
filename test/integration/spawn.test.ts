// native spawn() itself: how the child is made. Without a fork step, the child borrows tsrun's memory
// (CLONE_VM | CLONE_VFORK), so spawn returns only once the child has called execve; with one, the child
// gets a copy and spawn returns at once, while the child is still on its steps.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import type { ChildStep } from '../../src/kernel/steps.js';

const sys = realSyscalls;
const sleep = (seconds: string): ChildStep => ({ op: 'execve', file: '/bin/sleep', search: [], argv: ['sleep', seconds], envp: [] });

/** Spawn `steps`, look at what the child is the moment spawn returns, then wait for it to end. */
async function programRightAfterSpawn(steps: ChildStep[]): Promise<string> {
  const child = sys.spawn({ cloneFlags: [], steps, stdio: [-1, -1, -1] });
  const program = fs.readlinkSync(`/proc/${child.pid}/exe`);
  expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 }); // ended by itself: nothing is left running
  for (const fd of [child.errorFd, child.releaseFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  return program;
}

describe('spawn', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spawn-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns once the child has called execve: the child borrows tsrun\'s memory until then', async () => {
    // Steps that take the child milliseconds; if spawn returned before they were done, the child would still be node.
    const busy = Array.from({ length: 2000 }, (_, i): ChildStep => ({ op: 'mkdir', path: path.join(dir, String(i)), mode: 0o755 }));
    expect(await programRightAfterSpawn([...busy, sleep('0.3')])).toBe(fs.realpathSync('/bin/sleep'));
  });

  it('gives a child that forks a copy of the memory, and returns without waiting for its steps', async () => {
    // The first child waits for its own child (sleep) and never calls execve: spawn must not wait for it.
    expect(await programRightAfterSpawn([{ op: 'fork' }, sleep('0.3')])).toBe(process.execPath);
  });
});
