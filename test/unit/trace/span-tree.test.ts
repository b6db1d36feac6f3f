import { describe, expect, it } from 'vitest';
import { spanTreeLines, type OtlpSpan } from '../../../src/trace/otlp-json.js';

const span = (spanId: string, name: string, start: number, parentSpanId?: string, error = false): OtlpSpan => ({
  traceId: 'a'.repeat(32), spanId, parentSpanId, name, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 1),
  ...(error ? { status: { code: 2 } } : {}),
});

describe('spanTreeLines', () => {
  it('nests spans under their parents, siblings in start order, errors marked', () => {
    const spans = [
      span('3', 'tsrun.exec', 30, '1', true),
      span('1', 'tsrun run', 0, 'f00d', true), // its parent (a caller's TRACEPARENT) is not in the file
      span('2', 'tsrun.pull', 10, '1'),
      span('4', 'tsrun.registry.manifest', 11, '2'),
    ];
    expect(spanTreeLines(spans)).toEqual(['tsrun run (error)', '  tsrun.pull', '    tsrun.registry.manifest', '  tsrun.exec (error)']);
  });
});
