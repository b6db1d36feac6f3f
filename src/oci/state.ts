// What tsrun-oci knows of a container between its commands: each command is a process of its own (the shim
// calls `create`, later `start`, `state`, `kill`, `delete`), so the container lives in a directory under
// --root, and its status is read off the kernel each time, never remembered:
//
//   creating  create has not finished: no process yet, and the create that makes it still runs
//   created   its process lives and still waits on exec.fifo (native/src/exec.c)
//   running   its process lives and exec.fifo is gone: `start` let it go
//   paused    running, with its cgroup frozen
//   stopped   its process is gone (or is a zombie no one has reaped yet)
import fs from 'node:fs';
import path from 'node:path';
import { isRunningProcess } from '../kernel/proc.js';
import { writeFileAtomic } from '../store/atomic.js';
import { isFrozen, type CgroupPlan } from '../cgroups/cgroup.js';
import type { OciHooks } from './spec.js';
import { fail } from '../errors.js';

export type OciStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** The record `create` leaves in ROOT/ID/state.json. */
export interface OciRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** 0 until the process waits for start. */
  pid: number;
  pidStartTime: number | null;
  created: string;
  cgroup: CgroupPlan;
  /** The cgroup below each hierarchy's root (config.json's cgroupsPath, or tsrun-oci/ID). */
  cgroupPath: string;
  hooks: OciHooks;
  annotations: Record<string, string>;
  /** The tsrun-oci create that makes the container: while it runs and pid is 0, the container is creating. */
  creator: { pid: number; startTime: number | null };
}

/** The state JSON of the runtime spec (runtime.md, "State"), with runc's extra fields. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: OciStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
}

export const OCI_VERSION = '1.0.2';

/** A container id names a directory: runc's rule (letters, digits, _ + - .). */
const VALID_ID = /^[\w+.-]+$/;

export function containerDir(root: string, id: string): string {
  if (!VALID_ID.test(id) || id === '.' || id === '..') throw fail(`invalid container id ${JSON.stringify(id)}`, 'use letters, digits, _ + - and .');
  return path.join(root, id);
}

export const fifoPath = (dir: string) => path.join(dir, 'exec.fifo');

export function saveRecord(dir: string, record: OciRecord): void {
  writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(record), 0o600);
}

export function loadRecord(root: string, id: string): OciRecord {
  try {
    return JSON.parse(fs.readFileSync(path.join(containerDir(root, id), 'state.json'), 'utf8')) as OciRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw fail(`container ${id} does not exist`);
    throw error;
  }
}

// #region status
export function statusOf(record: OciRecord, dir: string): OciStatus {
  // A create that died half-way leaves a container that never ran: stopped, for delete to clear away.
  if (record.pid === 0) return isRunningProcess(record.creator.pid, record.creator.startTime) ? 'creating' : 'stopped';
  if (!isRunningProcess(record.pid, record.pidStartTime)) return 'stopped';
  if (fs.existsSync(fifoPath(dir))) return 'created';
  return isFrozen(record.cgroup) ? 'paused' : 'running';
}
// #endregion

export function stateOf(record: OciRecord, dir: string): OciState {
  const status = statusOf(record, dir);
  return {
    ociVersion: OCI_VERSION, id: record.id, pid: status === 'stopped' || status === 'creating' ? 0 : record.pid, status,
    bundle: record.bundle, rootfs: record.rootfs, created: record.created, owner: '', annotations: record.annotations,
  };
}
