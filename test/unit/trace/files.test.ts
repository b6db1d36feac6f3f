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

  it('makes the files 0600 and the directory it creates 0700, and leaves no temporary file', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-files-'));
    const files = { otlp: path.join(dir, 'traces/t.otlp.jsonl'), jaeger: path.join(dir, 'traces/t.jaeger.json') };
    writeTraceFiles(files, [{ resourceSpans: [] }]);
    expect(fs.statSync(path.join(dir, 'traces')).mode & 0o777).toBe(0o700);
    for (const file of [files.otlp, files.jaeger]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.join(dir, 'traces')).sort()).toEqual(['t.jaeger.json', 't.otlp.jsonl']);
  });

  it('replaces a symbolic link planted at a trace file\'s name, and never writes through it', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-files-'));
    const target = path.join(dir, 'precious');
    fs.writeFileSync(target, 'untouched\n', { mode: 0o644 });
    const files = { otlp: path.join(dir, 't.otlp.jsonl'), jaeger: path.join(dir, 't.jaeger.json') };
    fs.symlinkSync(target, files.otlp);
    fs.symlinkSync(path.join(dir, 'nowhere'), files.jaeger); // a dangling one, which O_CREAT alone would create
    writeTraceFiles(files, [{ resourceSpans: [] }]);
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(fs.statSync(target).mode & 0o777).toBe(0o644);
    expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
    for (const file of [files.otlp, files.jaeger]) {
      expect(fs.lstatSync(file).isFile()).toBe(true);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(parseOtlpLines(fs.readFileSync(files.otlp, 'utf8'))).toEqual([{ resourceSpans: [] }]);
  });
});
