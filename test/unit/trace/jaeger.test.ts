import { describe, expect, it } from 'vitest';
import { jaegerFromOtlp } from '../../../src/trace/jaeger.js';
import type { OtlpTraceRequest } from '../../../src/trace/otlp-json.js';
import { expectJaegerShape } from './jaeger-shape.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const caller = '1111111111111111';

const request: OtlpTraceRequest = {
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tsrun' } }, { key: 'host.name', value: { stringValue: 'lab1' } }] },
    scopeSpans: [{
      scope: { name: 'tsrun' },
      spans: [
        {
          traceId, spanId: 'aaaaaaaaaaaaaaaa', parentSpanId: caller, name: 'tsrun run', kind: 1,
          startTimeUnixNano: '1735787045678901234', endTimeUnixNano: '1735787045778901234',
          attributes: [
            { key: 'container.runtime.name', value: { stringValue: 'tsrun' } },
            { key: 'process.exit.code', value: { intValue: 127 } },
            { key: 'process.command_args', value: { arrayValue: { values: [{ stringValue: 'tsrun' }, { stringValue: 'run' }] } } },
          ],
          status: { code: 2, message: 'exec: "nope": executable file not found in $PATH' },
          events: [{ timeUnixNano: '1735787045770000000', name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TsrunError' } }] }],
        },
        {
          traceId, spanId: 'bbbbbbbbbbbbbbbb', parentSpanId: 'aaaaaaaaaaaaaaaa', name: 'tsrun.pull',
          startTimeUnixNano: '1735787045679000000', endTimeUnixNano: '1735787045679500999',
          attributes: [{ key: 'tsrun.ratio', value: { doubleValue: 0.5 } }, { key: 'tsrun.cached', value: { boolValue: true } }],
          status: { code: 0 },
        },
      ],
    }],
  }],
};

describe('jaegerFromOtlp', () => {
  const file = jaegerFromOtlp([request]);
  const [trace] = file.data;
  const [root, pull] = trace!.spans;

  it('has the shape Jaeger UI loads: one trace, its spans, the resource as process p1', () => {
    expectJaegerShape(file);
    expect(file.data).toHaveLength(1);
    expect(trace!.processes).toEqual({ p1: { serviceName: 'tsrun', tags: [{ key: 'host.name', type: 'string', value: 'lab1' }] } });
  });

  it('turns nanoseconds into microseconds, rounding down', () => {
    expect(root!.startTime).toBe(1735787045678901);
    expect(root!.duration).toBe(100_000);
    expect(pull!.duration).toBe(500);
  });

  it('points each span at its parent with CHILD_OF, a root that continues a caller\'s trace too', () => {
    expect(pull!.references).toEqual([{ refType: 'CHILD_OF', traceID: traceId, spanID: 'aaaaaaaaaaaaaaaa' }]);
    expect(root!.references).toEqual([{ refType: 'CHILD_OF', traceID: traceId, spanID: caller }]);
  });

  it('types the tags, writes arrays as JSON, and marks failed spans with error=true', () => {
    expect(root!.tags).toEqual([
      { key: 'container.runtime.name', type: 'string', value: 'tsrun' },
      { key: 'process.exit.code', type: 'int64', value: 127 },
      { key: 'process.command_args', type: 'string', value: '["tsrun","run"]' },
      { key: 'span.kind', type: 'string', value: 'internal' },
      { key: 'error', type: 'bool', value: true },
      { key: 'otel.status_code', type: 'string', value: 'ERROR' },
      { key: 'otel.status_description', type: 'string', value: 'exec: "nope": executable file not found in $PATH' },
    ]);
    expect(pull!.tags).toContainEqual({ key: 'tsrun.ratio', type: 'float64', value: 0.5 });
    expect(pull!.tags).toContainEqual({ key: 'tsrun.cached', type: 'bool', value: true });
    expect(pull!.tags.map((t) => t.key)).not.toContain('error');
  });

  it('turns events (a recorded exception) into logs', () => {
    expect(root!.logs).toEqual([{ timestamp: 1735787045770000, fields: [
      { key: 'event', type: 'string', value: 'exception' },
      { key: 'exception.type', type: 'string', value: 'TsrunError' },
    ] }]);
  });
});
