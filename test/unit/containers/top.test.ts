import { describe, expect, it } from 'vitest';
import { psTable } from '../../../src/containers/top.js';

describe('psTable: ps\'s output as dockerd reads it for docker top', () => {
  const ef = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 15:40 ?        00:00:01 /sbin/init',
    'root        4242    4240  0 15:41 ?        00:00:00 sleep 60',
    'root        4250    4242  0 15:41 pts/0    00:00:00 sh -c echo  two  spaces',
    '',
  ].join('\n');

  it('keeps the rows whose PID is the container\'s, the last column taking the rest of the line', () => {
    expect(psTable(ef, [4242, 4250])).toEqual({
      titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      processes: [
        ['root', '4242', '4240', '0', '15:41', '?', '00:00:00', 'sleep 60'],
        ['root', '4250', '4242', '0', '15:41', 'pts/0', '00:00:00', 'sh -c echo two spaces'],
      ],
    });
    expect(psTable(ef, []).processes).toEqual([]);
  });

  it('keeps a thread\'s row (PID "-", ps -m) with its process, and drops it with one that is not the container\'s', () => {
    const threads = ['  PID   TID CMD', '    1     - init', '    -     1 -', ' 4242     - sleep', '    -  4242 -', '    -  4243 -'].join('\n');
    expect(psTable(threads, [4242]).processes).toEqual([['4242', '-', 'sleep'], ['-', '4242', '-'], ['-', '4243', '-']]);
  });

  it('refuses an output without a PID column, or with a PID that is no number', () => {
    expect(() => psTable('USER COMMAND\nroot init\n', [1])).toThrow(/no PID column/);
    expect(() => psTable('PID CMD\nabc init\n', [1])).toThrow(/unexpected pid 'abc'/);
  });
});
