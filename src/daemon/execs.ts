// The exec instances the daemon holds (`docker exec`, exec.ts): made by POST /containers/{id}/exec, started by
// POST /exec/{id}/start, and read by GET /exec/{id}/json for their exit code. They live in the daemon's memory
// only, as dockerd's do: an exec is a moment of a running container, not part of its record.
import crypto from 'node:crypto';
import type { ExecRequest } from '../containers/exec-in.js';

/** How long an exec that has ended is kept for GET /exec/{id}/json (the CLI asks at once). */
const KEEP_ENDED_MS = 5 * 60_000;

export interface ExecInstance {
  id: string;
  containerId: string;
  request: ExecRequest;
  attach: { stdout: boolean; stderr: boolean };
  pid: number | null;
  /** With -t, the pty's master while the daemon holds it (exec.ts), and the size the client last asked for. */
  pty: number | null;
  size: { rows: number; cols: number } | null;
  running: boolean;
  /** Once it has ended: a second start is refused. */
  exitCode: number | null;
}

export class Execs {
  private readonly byId = new Map<string, ExecInstance>();

  add(instance: Pick<ExecInstance, 'containerId' | 'request' | 'attach'>): ExecInstance {
    const made: ExecInstance = { ...instance, id: crypto.randomBytes(32).toString('hex'), pid: null, pty: null, size: null, running: false, exitCode: null };
    this.byId.set(made.id, made);
    return made;
  }

  get(id: string): ExecInstance | undefined {
    return this.byId.get(id);
  }

  ended(instance: ExecInstance, code: number): void {
    Object.assign(instance, { running: false, exitCode: code });
    setTimeout(() => this.byId.delete(instance.id), KEEP_ENDED_MS).unref();
  }

  /** The daemon stops: every process it started in a container ends (SIGKILL). They are its children: it would
   *  wait for them, and they die with it anyway. */
  killAll(): void {
    for (const instance of this.byId.values()) {
      if (!instance.running || instance.pid === null) continue;
      try {
        process.kill(instance.pid, 'SIGKILL');
      } catch {
        // it has exited meanwhile
      }
    }
  }
}
