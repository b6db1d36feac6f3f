// A container's output on the wire: Docker's 8-byte frames, and the json-file log read as the monitor writes it
// (a line at a time, rotated to LOG.1 past its size, deleted with a --rm container).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFollower, frame, onTheWire } from '../../../src/daemon/stream.js';
import type { LogEntry } from '../../../src/containers/logs.js';

const entry = (log: string, stream: LogEntry['stream'] = 'stdout'): LogEntry => ({ log, stream, time: '2026-11-23T07:37:35.481664684Z' });
const line = (e: LogEntry) => JSON.stringify(e) + '\n';

describe('frames', () => {
  it('are the stream (1 stdout, 2 stderr), three zeros, the length big-endian, then the bytes', () => {
    expect(frame(entry('hi\n'))).toEqual(Buffer.from([1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]));
    expect(frame(entry('é\n', 'stderr')).subarray(0, 8)).toEqual(Buffer.from([2, 0, 0, 0, 0, 0, 0, 3])); // bytes, not characters
  });

  it('are left out for a container with a terminal; timestamps go inside, before the text', () => {
    expect(onTheWire(entry('hi\n'), { tty: true, timestamps: false })).toEqual(Buffer.from('hi\n'));
    expect(onTheWire(entry('hi\n'), { tty: true, timestamps: true }).toString()).toBe('2026-11-23T07:37:35.481664684Z hi\n');
    expect(onTheWire(entry('hi\n'), { tty: false, timestamps: true }).subarray(8).toString()).toBe('2026-11-23T07:37:35.481664684Z hi\n');
  });
});

describe('LogFollower', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-follow-'));
    log = path.join(dir, 'c-json.log');
    fs.writeFileSync(log, line(entry('before\n')));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads from the start or from the end, complete lines only, a character cut in two included', () => {
    const all = new LogFollower(log, 'start');
    const fromNow = new LogFollower(log, 'end');
    const next = Buffer.from(line(entry('héllo\n')));
    const cut = next.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
    fs.appendFileSync(log, next.subarray(0, cut));
    expect(all.read()).toEqual([entry('before\n')]);
    expect(fromNow.read()).toEqual([]);
    fs.appendFileSync(log, next.subarray(cut));
    expect(fromNow.read()).toEqual([entry('héllo\n')]);
    expect(all.read()).toEqual([entry('héllo\n')]);
    all.close();
    fromNow.close();
  });

  it('reads a rotated log to its end, then the new one', () => {
    const follower = new LogFollower(log, 'end');
    fs.appendFileSync(log, line(entry('last of the old file\n')));
    fs.renameSync(log, `${log}.1`); // what the monitor does past max-size
    fs.writeFileSync(log, line(entry('first of the new file\n')));
    expect(follower.read()).toEqual([entry('last of the old file\n')]);
    expect(follower.read()).toEqual([entry('first of the new file\n')]);
    follower.close();
  });

  it('reads to the end a log removed with its container', () => {
    const follower = new LogFollower(log, 'end');
    fs.appendFileSync(log, line(entry('written just before the exit\n', 'stderr')));
    fs.rmSync(log);
    expect(follower.read()).toEqual([entry('written just before the exit\n', 'stderr')]);
    expect(follower.read()).toEqual([]);
    follower.close();
  });
});
