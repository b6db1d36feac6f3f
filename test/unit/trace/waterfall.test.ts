import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chalk } from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { jaegerFromOtlp } from '../../../src/trace/jaeger.js';
import type { OtlpSpan, OtlpTraceRequest } from '../../../src/trace/otlp-json.js';
import { formatMicroseconds, listSavedTraces, parseTraceText, type SavedSpan, type SavedTrace } from '../../../src/trace/saved.js';
import { barCells, waterfallLines } from '../../../src/trace/waterfall.js';

const plain = new Chalk({ level: 0 });
const T0 = 1_795_000_000_000_000; // microseconds since the epoch

const span = (spanId: string, name: string, start: number, duration: number, parentSpanId?: string, extra: Partial<SavedSpan> = {}): SavedSpan => ({
  spanId, name, start: T0 + start, duration, attributes: {}, ...(parentSpanId ? { parentSpanId } : {}), ...extra,
});

// A run of 1000 µs; the file lists its spans out of order, as exporters do (children end first).
const run: SavedTrace = {
  traceId: 'a'.repeat(32),
  serviceName: 'tsrun',
  spans: [
    span('3', 'tsrun.exec', 500, 500, '1', { attributes: { 'process.pid': 42, 'container.id': 'c0ffee' }, error: 'exec: "x": not found' }),
    span('4', 'execve', 500, 100, '3'),
    span('2', 'tsrun.pull', 0, 250, '1', { attributes: { 'process.command_args': ['sh', '-c', 'true'] } }),
    span('1', 'tsrun run', 0, 1000, 'f00dcafef00dcafe'), // its parent (a caller's, from TRACEPARENT) is not in the file
    span('5', 'wait', 600, 400, '3'),
  ],
};

describe('barCells', () => {
  it('places and sizes a bar in proportion to the whole trace', () => {
    expect(barCells(0, 1000, 1000, 40)).toBe('█'.repeat(40));
    expect(barCells(500, 500, 1000, 40)).toBe(' '.repeat(20) + '█'.repeat(20));
    expect(barCells(0, 250, 1000, 40)).toBe('█'.repeat(10) + ' '.repeat(30));
    expect(barCells(250, 500, 1000, 8)).toBe('  ████  ');
  });

  it('gives a span too short to see one cell, even at the very end', () => {
    expect(barCells(100, 0, 1000, 10)).toBe(' █' + ' '.repeat(8));
    expect(barCells(1000, 0, 1000, 10)).toBe(' '.repeat(9) + '█');
  });
});

describe('waterfallLines', () => {
  it('draws the tree in start order, with proportional bars, durations, attributes and errors', () => {
    const lines = waterfallLines(run, { chalk: plain, width: Infinity });
    expect(lines[0]).toBe(`tsrun run · trace ${'a'.repeat(32)} · service tsrun · 2026-11-18 11:06:40.000 UTC · 1.00 ms · 5 spans · container c0ffee · 1 failed`);
    expect(lines.slice(1)).toEqual([
      '',
      `tsrun run     │${'█'.repeat(40)}│  1.00 ms`,
      `├─ tsrun.pull │${'█'.repeat(10)}${' '.repeat(30)}│   250 µs  process.command_args=[sh, -c, true]`,
      `└─ tsrun.exec │${' '.repeat(20)}${'█'.repeat(20)}│   500 µs  process.pid=42  ERROR exec: "x": not found`,
      `   ├─ execve  │${' '.repeat(20)}${'█'.repeat(4)}${' '.repeat(16)}│   100 µs`,
      `   └─ wait    │${' '.repeat(24)}${'█'.repeat(16)}│   400 µs`,
    ]);
  });

  it('paints failed spans red only when colours are on', () => {
    const coloured = waterfallLines(run, { chalk: new Chalk({ level: 1 }), width: Infinity });
    const exec = coloured.find((line) => line.includes('tsrun.exec'))!;
    expect(exec).toContain('\u001b[31m└─ tsrun.exec');
    expect(coloured.find((line) => line.includes('tsrun.pull'))).not.toContain('\u001b[31m');
    expect(waterfallLines(run, { chalk: plain, width: Infinity }).join('\n')).not.toContain('\u001b[');
  });

  it('fits a terminal: rows are cut to its width, the bar narrows but stays', () => {
    const lines = waterfallLines(run, { chalk: plain, width: 60 });
    for (const line of lines.slice(2)) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[3]).toBe('├─ tsrun.pull │███       │   250 µs  process.command_args=[…');
  });
});

describe('reading saved traces', () => {
  const otlpSpan = (spanId: string, name: string, startNs: bigint, durationNs: bigint, parentSpanId?: string, extra: Partial<OtlpSpan> = {}): OtlpSpan => ({
    traceId: 'b'.repeat(32), spanId, ...(parentSpanId ? { parentSpanId } : {}), name,
    startTimeUnixNano: String(startNs), endTimeUnixNano: String(startNs + durationNs), ...extra,
  });
  const request: OtlpTraceRequest = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'lab' } }] },
      scopeSpans: [{
        spans: [
          otlpSpan('1', 'tsrun run', 1_795_000_000_000_000_000n, 9_000_000n, undefined, { attributes: [{ key: 'process.exit.code', value: { intValue: 3 } }] }),
          otlpSpan('2', 'tsrun.exec', 1_795_000_000_001_000_000n, 8_000_000n, '1', {
            attributes: [{ key: 'process.command_args', value: { arrayValue: { values: [{ stringValue: 'sh' }] } } }],
            status: { code: 2, message: 'boom' },
          }),
        ],
      }],
    }],
  };

  it('reads OTLP JSON lines and Jaeger JSON of one trace as the same spans', () => {
    const expected: SavedTrace = {
      traceId: 'b'.repeat(32), serviceName: 'lab',
      spans: [
        { spanId: '1', name: 'tsrun run', start: 1_795_000_000_000_000, duration: 9000, attributes: { 'process.exit.code': 3 } },
        { spanId: '2', parentSpanId: '1', name: 'tsrun.exec', start: 1_795_000_000_001_000, duration: 8000, attributes: { 'process.command_args': ['sh'] }, error: 'boom' },
      ],
    };
    expect(parseTraceText(JSON.stringify(request) + '\n')).toEqual([expected]);
    expect(parseTraceText(JSON.stringify(jaegerFromOtlp([request]), null, 2))).toEqual([expected]);
    const other = JSON.parse(JSON.stringify(request).replaceAll('b'.repeat(32), 'c'.repeat(32))) as OtlpTraceRequest;
    expect(parseTraceText(`${JSON.stringify(request)}\n${JSON.stringify(other)}\n`).map((t) => t.traceId)).toEqual(['b'.repeat(32), 'c'.repeat(32)]);
  });

  it('leaves out a Jaeger trace without spans: nothing to draw', () => {
    expect(parseTraceText(JSON.stringify({ data: [{ traceID: 'c'.repeat(32), spans: [], processes: {} }] }))).toEqual([]);
  });

  it('refuses a file that is neither format', () => {
    expect(() => parseTraceText('{"hello": 1}')).toThrow(/neither Jaeger JSON nor OTLP JSON lines/);
    expect(() => parseTraceText('not json')).toThrow();
  });

  let dir = '';
  afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('lists each saved trace once, oldest first, with its status; skips what is not a trace', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-ls-'));
    const later: OtlpTraceRequest = JSON.parse(JSON.stringify(request).replaceAll('1795000000', '1796000000').replace(/"status":\{"code":2,"message":"boom"\}/, '"status":{"code":0}'));
    fs.mkdirSync(path.join(dir, 'examples'));
    fs.writeFileSync(path.join(dir, 'b.otlp.jsonl'), JSON.stringify(later) + '\n');
    fs.writeFileSync(path.join(dir, 'b.jaeger.json'), JSON.stringify(jaegerFromOtlp([later])));
    fs.writeFileSync(path.join(dir, 'examples', 'a.jaeger.json'), JSON.stringify(jaegerFromOtlp([request])));
    fs.writeFileSync(path.join(dir, 'broken.otlp.jsonl'), '{');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a trace');
    const warnings: string[] = [];
    const listed = listSavedTraces(dir, (message) => warnings.push(message));
    expect(listed).toEqual([
      { file: path.join(dir, 'examples', 'a.jaeger.json'), start: 1_795_000_000_000_000, root: 'tsrun run', duration: 9000, spans: 2, status: 'error: boom' },
      { file: path.join(dir, 'b.otlp.jsonl'), start: 1_796_000_000_000_000, root: 'tsrun run', duration: 9000, spans: 2, status: 'exit 3' },
    ]);
    expect(warnings).toEqual([expect.stringMatching(/broken\.otlp\.jsonl is not a trace/)]);
  });
});

describe('formatMicroseconds', () => {
  it('keeps three significant digits in the unit that fits', () => {
    expect([0, 512, 1250, 74_240, 999_000, 3_400_000, 125_000_000].map(formatMicroseconds))
      .toEqual(['0 µs', '512 µs', '1.25 ms', '74.2 ms', '999 ms', '3.40 s', '125 s']);
  });
});
