import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordExitIfGone } from '../../../src/store/record-exit.js';
import { addContainer, getContainer, saveState } from '../../../src/store/containers.js';
import { containerRunDir } from '../../../src/store/paths.js';
import type { ContainerRecord } from '../../../src/container.js';
import { fakeSyscalls } from '../../helpers/fake-syscalls.js';
import { tempStore } from '../../helpers/temp-store.js';
import { containerOn } from '../../helpers/fake-network-host.js';

// A pid no process has (above the kernel's pid_max): its process and its monitor are gone.
const GONE = { pid: 4_194_305, startTime: 1 };

describe('recordExitIfGone', () => {
  let store: ReturnType<typeof tempStore>;
  beforeEach(() => { store = tempStore(); });
  afterEach(() => store.remove());

  const detachedRunning = async (): Promise<ContainerRecord> => {
    const container = containerOn('1');
    container.state = { ...container.state, status: 'running', pid: GONE.pid, pidStartTime: GONE.startTime, startedAt: '2026-12-06T00:00:00Z', monitor: GONE };
    return addContainer(fakeSyscalls(), store, container);
  };

  it('writes down the code the monitor left in the exit file, or 137 without one', async () => {
    const read = await detachedRunning();
    fs.mkdirSync(containerRunDir(store, read.id), { recursive: true });
    fs.writeFileSync(path.join(containerRunDir(store, read.id), 'exit'), '3 0 2026-12-06T00:00:01Z\n');
    expect(recordExitIfGone(store, read)).toMatchObject({ recorded: true, container: { state: { status: 'exited', exitCode: 3, finishedAt: '2026-12-06T00:00:01Z' } } });
    expect(getContainer(store, read.id).state).toMatchObject({ status: 'exited', exitCode: 3, monitor: null, pid: null });

    fs.rmSync(containerRunDir(store, read.id), { recursive: true });
    saveState(store, read.id, read.state); // running again, and this time its monitor died without a word
    expect(recordExitIfGone(store, read)).toMatchObject({ recorded: true, container: { state: { status: 'exited', exitCode: 137 } } });
  });

  it('keeps what the monitor wrote after the record was read (it released the exit file with the run dir, then ended)', async () => {
    const read = await detachedRunning();
    saveState(store, read.id, { ...read.state, status: 'exited', exitCode: 0, pid: null, pidStartTime: null, monitor: null, finishedAt: '2026-12-06T00:00:02Z' });
    expect(recordExitIfGone(store, read)).toEqual({ recorded: false, container: { ...read, state: expect.objectContaining({ status: 'exited', exitCode: 0 }) } });
    expect(getContainer(store, read.id).state.exitCode).toBe(0);
  });

  it('leaves a container whose process runs, and one removed meanwhile, as they are', async () => {
    const read = await detachedRunning();
    const alive = { ...read, state: { ...read.state, pid: process.pid, pidStartTime: null } };
    expect(recordExitIfGone(store, alive)).toEqual({ recorded: false, container: alive });
    fs.rmSync(path.join(store.root, 'containers', read.id), { recursive: true });
    expect(recordExitIfGone(store, read)).toEqual({ recorded: false, container: read });
  });
});
