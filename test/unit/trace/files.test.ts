import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceFilePaths, writeTraceFiles } from '../../../src/trace/files.js';
import { parseOtlpLines, type OtlpTraceRequest } from '../../../src/trace/otlp-json.js';

const startedAt = new Date('2025-01-02T03:04:05.678Z');
const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('traceFilePaths', () => {
  it('puts a bare --trace in ./traces/, named by command, time and trace id', () => {
    expect(traceFilePaths('', 'run', traceId, startedAt)).toEqual({
      otlp: 'traces/tsrun-run-20250102T030405Z-4bf92f35.otlp.jsonl',
      jaeger: 'traces/tsrun-run-20250102T030405Z-4bf92f35.jaeger.json',
    });
  });

  it('treats --trace=DIR as a directory and --trace=FILE.json or .jsonl as the name of both files', () => {
    expect(traceFilePaths('/tmp/t', 'pull', traceId, startedAt).otlp).toBe('/tmp/t/tsrun-pull-20250102T030405Z-4bf92f35.otlp.jsonl');
    for (const flag of ['out/run.json', 'out/run.jsonl', 'out/run.jaeger.json', 'out/run.otlp.jsonl']) {
      expect(traceFilePaths(flag, 'run', traceId, startedAt)).toEqual({ otlp: 'out/run.otlp.jsonl', jaeger: 'out/run.jaeger.json' });
    }
  });
});

describe('writeTraceFiles', () => {
  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one OTLP request per line, and Jaeger JSON beside it, creating the directory', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-files-'));
    const span = { traceId, spanId: '00f067aa0ba902b7', name: 'tsrun run', startTimeUnixNano: '1000', endTimeUnixNano: '3000' };
    const requests: OtlpTraceRequest[] = [{ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }, { resourceSpans: [] }];
    const files = { otlp: path.join(dir, 'a/b/t.otlp.jsonl'), jaeger: path.join(dir, 'a/b/t.jaeger.json') };
    writeTraceFiles(files, requests);
    expect(fs.readFileSync(files.otlp, 'utf8').split('\n')).toHaveLength(3); // two lines and the final newline
    expect(parseOtlpLines(fs.readFileSync(files.otlp, 'utf8'))).toEqual(requests);
    expect(JSON.parse(fs.readFileSync(files.jaeger, 'utf8')).data[0].spans[0].operationName).toBe('tsrun run');
  });
});
