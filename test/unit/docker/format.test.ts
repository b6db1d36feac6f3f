import { describe, expect, it } from 'vitest';
import { formatTable, humanDuration, humanSize, timeAgo } from '../../../src/docker/format.js';

describe('formatTable', () => {
  it('pads every column but the last to its widest cell plus 3, and at least 10', () => {
    const table = formatTable(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      [
        ['busybox', 'latest', '5e0f1a2b3c4d', '2 weeks ago', '4.26MB'],
        ['example/longer-name', 'v1', 'aaaaaaaaaaaa', 'About an hour ago', '815B'],
      ],
    );
    expect(table).toBe(
      'REPOSITORY            TAG       IMAGE ID       CREATED             SIZE\n' +
      'busybox               latest    5e0f1a2b3c4d   2 weeks ago         4.26MB\n' +
      'example/longer-name   v1        aaaaaaaaaaaa   About an hour ago   815B\n',
    );
  });

  it('prints just the headers when there are no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A         B\n');
  });
});

describe('humanSize (go-units HumanSizeWithPrecision, 3 digits)', () => {
  it.each([
    [0, '0B'],
    [815, '815B'],
    [999, '999B'],
    [1000, '1kB'],
    [1200, '1.2kB'],
    [1234, '1.23kB'],
    [4_260_000, '4.26MB'],
    [4_264_999, '4.26MB'],
    [1_982_256, '1.98MB'],
    [12_345_678, '12.3MB'],
    [123_456_789, '123MB'],
    [999_999, '1e+03kB'],
    [5e9, '5GB'],
    [2.5e12, '2.5TB'],
  ])('%d bytes -> %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
});

describe('humanDuration (go-units HumanDuration)', () => {
  const SECOND = 1000;
  const MINUTE = 60 * SECOND;
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;
  it.each([
    [-5 * SECOND, 'Less than a second'],
    [999, 'Less than a second'],
    [SECOND, '1 second'],
    [59 * SECOND, '59 seconds'],
    [60 * SECOND, 'About a minute'],
    [119 * SECOND, 'About a minute'],
    [2 * MINUTE, '2 minutes'],
    [59 * MINUTE, '59 minutes'],
    [60 * MINUTE, 'About an hour'],
    [89 * MINUTE, 'About an hour'],
    [90 * MINUTE, '2 hours'],
    [47 * HOUR, '47 hours'],
    [48 * HOUR, '2 days'],
    [13 * DAY, '13 days'],
    [14 * DAY, '2 weeks'],
    [59 * DAY, '8 weeks'],
    [60 * DAY, '2 months'],
    [729 * DAY, '24 months'],
    [730 * DAY, '2 years'],
    [3 * 365 * DAY, '3 years'],
  ])('%d ms -> %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('timeAgo', () => {
  it('says how long ago, from a Date or an ISO string', () => {
    const now = new Date('2025-01-15T12:00:00Z');
    expect(timeAgo(new Date('2025-01-15T11:00:00Z'), now)).toBe('About an hour ago');
    expect(timeAgo('2025-01-01T12:00:00Z', now)).toBe('2 weeks ago');
    expect(timeAgo('2025-01-15T12:00:00.400Z', now)).toBe('Less than a second ago');
  });
});
