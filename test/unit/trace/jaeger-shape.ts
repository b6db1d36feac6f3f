// What Jaeger UI's "Upload JSON" needs from a file (its loader, transformTraceData, reads
// these fields): checked field by field, so a test names what is wrong.
import { expect } from 'vitest';
import type { JaegerFile } from '../../../src/trace/jaeger.js';

const TAG_TYPES = ['string', 'bool', 'int64', 'float64'];

export function expectJaegerShape(file: JaegerFile): void {
  expect(Array.isArray(file.data)).toBe(true);
  for (const trace of file.data) {
    expect(trace.traceID).toMatch(/^[0-9a-f]{32}$/);
    expect(Object.keys(trace.processes).length).toBeGreaterThan(0);
    for (const process of Object.values(trace.processes)) {
      expect(typeof process.serviceName).toBe('string');
      expect(Array.isArray(process.tags)).toBe(true);
    }
    const ids = new Set(trace.spans.map((span) => span.spanID));
    for (const span of trace.spans) {
      expect(span.traceID).toBe(trace.traceID);
      expect(span.spanID).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof span.operationName).toBe('string');
      expect(Number.isInteger(span.startTime)).toBe(true);
      expect(span.startTime).toBeGreaterThan(1e15); // microseconds since 1970: more than 1e15 after 2001
      expect(span.startTime).toBeLessThan(1e17);
      expect(Number.isInteger(span.duration) && span.duration >= 0).toBe(true);
      expect(trace.processes[span.processID]).toBeDefined();
      for (const reference of span.references) {
        expect(reference).toEqual({ refType: 'CHILD_OF', traceID: trace.traceID, spanID: expect.stringMatching(/^[0-9a-f]{16}$/) });
      }
      for (const tag of [...span.tags, ...span.logs.flatMap((log) => log.fields)]) {
        expect(TAG_TYPES).toContain(tag.type);
        expect(typeof tag.key).toBe('string');
      }
      for (const log of span.logs) expect(Number.isInteger(log.timestamp)).toBe(true);
    }
    // One root in the file; every other span's parent is in the file too.
    const roots = trace.spans.filter((span) => !span.references.some((r) => ids.has(r.spanID)));
    expect(roots).toHaveLength(1);
  }
}
