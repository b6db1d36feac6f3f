// Run the real CLI (bin/tsrun.js, compiled) as a child process, as a user would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { buildDemoImage } from '../../src/image/demo.js';

export const TSRUN = path.resolve(import.meta.dirname, '../../bin/tsrun.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function tsrun(root: string, args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [TSRUN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...options,
    env: { ...process.env, NO_COLOR: '1', ...options.env, TSRUN_ROOT: root },
  });
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** What a run could leave behind on the host: mounts, and processes that are
 *  tsrun or live in another PID namespace than ours (a container's). */
export function hostSnapshot(): { mounts: string[]; processes: string[] } {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ').slice(3, 5).join(' ')) // root and mount point: ids change, places don't
    .filter(Boolean).sort();
  const ourPidNs = fs.readlinkSync('/proc/self/ns/pid');
  const processes = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const foreign = fs.readlinkSync(`/proc/${pid}/ns/pid`) !== ourPidNs;
      return foreign || cmdline.includes(TSRUN) ? [`${pid} ${cmdline}`] : [];
    } catch {
      return []; // exited while we looked
    }
  });
  return { mounts, processes: processes.sort() };
}

/** Fails every test of the suite that leaves a mount or a container process behind, failed or not. */
export function expectHostUnchangedAfterEach(): void {
  let before: ReturnType<typeof hostSnapshot>;
  beforeEach(() => {
    before = hostSnapshot();
  });
  afterEach(() => {
    const after = hostSnapshot();
    expect(after.mounts.filter((m) => !before.mounts.includes(m))).toEqual([]);
    expect(after.processes.filter((p) => !before.processes.includes(p))).toEqual([]);
  });
}

/** A fresh store under the temp dir with the demo image loaded: what most integration tests start from. */
export async function storeWithDemoImage(label: string): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tsrun-${label}-`));
  const imageDir = path.join(root, 'demo-image');
  await buildDemoImage(imageDir);
  const loaded = tsrun(root, ['load', '-i', imageDir]);
  if (loaded.status !== 0 || loaded.stderr !== '') throw new Error(`loading the demo image failed (exit ${loaded.status}): ${loaded.stderr}`);
  return root;
}
