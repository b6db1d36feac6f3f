// native spawn() itself: how the child is made. The child borrows tsrun's memory (CLONE_VM | CLONE_VFORK),
// so spawn returns only once the child has called execve; after a fork step, the process that goes on
// with the steps does the same, as tsrun's own child, and spawn returns it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realSyscalls } from '../../src/kernel/native.js';
import type { ChildStep } from '../../src/kernel/steps.js';

const sys = realSyscalls;
const sleep = (seconds: string): ChildStep => ({ op: 'execve', file: '/bin/sleep', search: [], argv: ['sleep', seconds], envp: [] });
/** What the child is once its execve step has begun: tsrun-exec's sealed copy, then the command; never node. */
const AFTER_EXECVE = ['/memfd:tsrun-exec (deleted)', fs.realpathSync('/bin/sleep')];

/** Spawn `steps`, look at what the child is the moment spawn returns, then wait for it to end. */
async function programRightAfterSpawn(steps: ChildStep[]): Promise<string> {
  const child = sys.spawn({ cloneFlags: [], steps, stdio: [-1, -1, -1] });
  const program = fs.readlinkSync(`/proc/${child.pid}/exe`);
  expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 }); // ended by itself: nothing is left running
  for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  return program;
}

/** This process's children that have exited and not been waited for. */
function zombieChildren(): string[] {
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return /^State:\s+Z/m.test(status) && new RegExp(`^PPid:\\s+${process.pid}$`, 'm').test(status);
    } catch {
      return false; // gone while we looked
    }
  });
}

describe('spawn', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-spawn-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('returns once the child has called execve: the child borrows tsrun\'s memory until then', async () => {
    // Steps that take the child milliseconds; if spawn returned before they were done, the child would still be node.
    // Its execve starts tsrun-exec, from a sealed copy, which execs the command a moment later.
    const busy = Array.from({ length: 2000 }, (_, i): ChildStep => ({ op: 'mkdir', path: path.join(dir, String(i)), mode: 0o755 }));
    expect(AFTER_EXECVE).toContain(await programRightAfterSpawn([...busy, sleep('0.3')]));
  });

  it('after a fork step, returns the process that runs the command: tsrun\'s own child, once it has called execve', async () => {
    const child = sys.spawn({ cloneFlags: [], steps: [{ op: 'fork' }, sleep('0.3')], stdio: [-1, -1, -1] });
    expect(AFTER_EXECVE).toContain(fs.readlinkSync(`/proc/${child.pid}/exe`));
    expect(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(new RegExp(`^PPid:\\s+${process.pid}$`, 'm'));
    expect(zombieChildren()).toEqual([]); // the first child, which forked and left, was reaped
    expect(await sys.waitpid(child.pid)).toMatchObject({ code: 0 });
    for (const fd of [child.errorFd, child.consoleFd]) if (fd >= 0) fs.closeSync(fd);
  });
});
