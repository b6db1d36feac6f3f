// The state JSON of the runtime spec (runtime.md, "State"), read off the kernel: the status from whether the
// process lives and whether start has come (exec.fifo gone).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerDir, stateOf, type OciRecord } from '../../../src/oci/state.js';
import { processStartTime } from '../../../src/kernel/proc.js';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oci-state-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const record = (pid: number): OciRecord => ({
  id: 'c1', bundle: '/srv/bundle', rootfs: '/srv/bundle/rootfs', pid, pidStartTime: processStartTime(pid), created: '2026-12-06T12:00:00.000Z',
  cgroup: { version: 1, dirs: [], writes: [], joins: [], byController: {}, devices: [] }, cgroupPath: 'tsrun-oci/c1', hooks: {}, annotations: { a: 'b' },
  creator: { pid: process.pid, startTime: processStartTime(process.pid) },
});

/** The spec's schema (schema/state-schema.json), as checks: the required fields and their types. */
function checkSchema(state: Record<string, unknown>): void {
  expect(Object.keys(state)).toEqual(expect.arrayContaining(['ociVersion', 'id', 'status', 'bundle']));
  expect(state.ociVersion).toMatch(/^1\.\d+\.\d+/);
  expect(typeof state.id).toBe('string');
  expect(['creating', 'created', 'running', 'stopped']).toContain(state.status);
  expect(path.isAbsolute(state.bundle as string)).toBe(true);
  // "pid: REQUIRED when status is created or running".
  if (state.status === 'created' || state.status === 'running') expect(Number.isInteger(state.pid) && (state.pid as number) > 0).toBe(true);
  expect(typeof state.annotations).toBe('object');
}

describe('stateOf', () => {
  it('says created while the process lives and exec.fifo is there, running once it is gone', () => {
    fs.writeFileSync(path.join(dir, 'exec.fifo'), '');
    const created = stateOf(record(process.pid), dir);
    expect(created).toMatchObject({ ociVersion: '1.0.2', id: 'c1', status: 'created', pid: process.pid, bundle: '/srv/bundle', annotations: { a: 'b' } });
    checkSchema(created as unknown as Record<string, unknown>);
    fs.rmSync(path.join(dir, 'exec.fifo'));
    expect(stateOf(record(process.pid), dir).status).toBe('running');
  });

  it('says stopped, with pid 0, once the process is gone, or when its pid now names another process', () => {
    const gone = stateOf({ ...record(process.pid), pid: 2 ** 22 + 1, pidStartTime: 1 }, dir);
    expect(gone).toMatchObject({ status: 'stopped', pid: 0 });
    checkSchema(gone as unknown as Record<string, unknown>);
    expect(stateOf({ ...record(process.pid), pidStartTime: 1 }, dir).status).toBe('stopped');
  });

  it('says creating while its create runs and no process is there yet, and stopped if that create died', () => {
    const creating = stateOf({ ...record(process.pid), pid: 0, pidStartTime: null }, dir);
    expect(creating).toMatchObject({ status: 'creating', pid: 0 });
    checkSchema(creating as unknown as Record<string, unknown>);
    expect(stateOf({ ...record(process.pid), pid: 0, pidStartTime: null, creator: { pid: 2 ** 22 + 1, startTime: 1 } }, dir).status).toBe('stopped');
  });

  it('takes only ids that can name a directory', () => {
    expect(containerDir('/run/tsrun-oci', 'web-1.a_b+c')).toBe('/run/tsrun-oci/web-1.a_b+c');
    for (const bad of ['..', '.', 'a/b', '', 'a b']) expect(() => containerDir('/run/tsrun-oci', bad)).toThrow(/invalid container id/);
  });
});
