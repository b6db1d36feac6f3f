// The SDK set up as main.ts does, in this process: spans written to files and
// sent over OTLP/HTTP to a receiver on 127.0.0.1, without root.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTracing } from '../../../src/trace/setup.js';
import { exitCodeOf } from '../../../src/errors.js';
import { inSpan, traceContextEnv } from '../../../src/trace/span.js';
import { parseOtlpLines, plainValue, spansOf, type OtlpSpan } from '../../../src/trace/otlp-json.js';

let dir = '';
const TEST = { name: 'test', args: ['test'], containerCommandAt: 1 };
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-trace-setup-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Trace `work` as the command `test`, to files in `dir`; the spans written, by name. */
async function traced(work: () => Promise<unknown>, env: NodeJS.ProcessEnv = {}) {
  const tracing = await startTracing({ file: path.join(dir, 't.json'), exporters: []}, TEST, env);
  await tracing.root(work, exitCodeOf).catch(() => undefined);
  expect((await tracing.finish()).settled).toBe(true);
  const all = spansOf(parseOtlpLines(fs.readFileSync(path.join(dir, 't.otlp.jsonl'), 'utf8')));
  return { all, byName: (name: string) => all.find((s) => s.span.name === name)!.span };
}

const attribute = (span: OtlpSpan, key: string) => {
  const found = span.attributes?.find((kv) => kv.key === key);
  return found && plainValue(found.value);
};

describe('startTracing', () => {
  it('nests the stages\' spans under one root span per command, named tsrun <command>', async () => {
    const { all, byName } = await traced(() => inSpan('tsrun.pull', { 'container.image.name': 'demo' }, () => inSpan('tsrun.pull.manifest', {}, () => 1)));
    expect(all.map((s) => s.span.name).sort()).toEqual(['tsrun test', 'tsrun.pull', 'tsrun.pull.manifest']);
    const root = byName('tsrun test');
    expect(root.parentSpanId ?? '').toBe('');
    expect(byName('tsrun.pull').parentSpanId).toBe(root.spanId);
    expect(byName('tsrun.pull.manifest').parentSpanId).toBe(byName('tsrun.pull').spanId);
    expect(new Set(all.map((s) => s.span.traceId)).size).toBe(1);
    expect(attribute(root, 'container.runtime.name')).toBe('tsrun');
    expect(attribute(byName('tsrun.pull'), 'container.image.name')).toBe('demo');
    const service = all[0]!.resource.find((kv) => kv.key === 'service.name');
    expect(service && plainValue(service.value)).toBe('tsrun');
  });

  it('times spans finer than whole milliseconds, children inside their parent', async () => {
    const { byName } = await traced(() => inSpan('tsrun.pull', {}, () => 1));
    const [root, pull] = [byName('tsrun test'), byName('tsrun.pull')];
    expect(BigInt(pull.startTimeUnixNano) >= BigInt(root.startTimeUnixNano)).toBe(true);
    expect(BigInt(pull.endTimeUnixNano) <= BigInt(root.endTimeUnixNano)).toBe(true);
    const times = [root.startTimeUnixNano, root.endTimeUnixNano, pull.startTimeUnixNano, pull.endTimeUnixNano];
    expect(times.some((t) => !t.endsWith('000000'))).toBe(true);
  });

  it('marks a failure ERROR and records the exception, on the failing span and the root', async () => {
    const { byName } = await traced(() => inSpan('tsrun.exec', {}, () => { throw new Error('exec: "nope": not found'); }));
    for (const name of ['tsrun.exec', 'tsrun test']) {
      const span = byName(name);
      expect(span.status).toEqual({ code: 2, message: 'exec: "nope": not found' });
      const exception = span.events?.find((e) => e.name === 'exception');
      expect(exception && attribute({ ...span, attributes: exception.attributes }, 'exception.message')).toBe('exec: "nope": not found');
    }
  });

  it('records the command line on the root span with its secrets left out, the container\'s command as typed', async () => {
    const args = ['run', '-e', 'DB_PASSWORD=hunter2', '--env-file', 'app.env', 'demo', 'env', '-e', 'SHOWN=yes'];
    const tracing = await startTracing({ file: path.join(dir, 't.json'), exporters: [] }, { name: 'run', args, containerCommandAt: 6 }, {});
    await tracing.root(async () => undefined, exitCodeOf);
    await tracing.finish();
    const text = fs.readFileSync(path.join(dir, 't.otlp.jsonl'), 'utf8') + fs.readFileSync(path.join(dir, 't.jaeger.json'), 'utf8');
    expect(text).not.toContain('hunter2');
    const root = spansOf(parseOtlpLines(fs.readFileSync(path.join(dir, 't.otlp.jsonl'), 'utf8')))[0]!.span;
    expect(attribute(root, 'process.command_args'))
      .toEqual(['tsrun', 'run', '-e', 'DB_PASSWORD=<redacted>', '--env-file', 'app.env', 'demo', 'env', '-e', 'SHOWN=yes']);
  });

  it('writes the trace files mode 0600, and warns instead of failing when it cannot write them', async () => {
    await traced(async () => undefined);
    for (const name of ['t.otlp.jsonl', 't.jaeger.json']) expect(fs.statSync(path.join(dir, name)).mode & 0o777).toBe(0o600);

    fs.mkdirSync(path.join(dir, 'taken.otlp.jsonl')); // a directory where the file should go
    const tracing = await startTracing({ file: path.join(dir, 'taken.json'), exporters: [] }, TEST, {});
    await tracing.root(async () => undefined, exitCodeOf);
    const stderr: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => stderr.push(chunk)) as unknown as typeof write;
    try {
      expect((await tracing.finish()).written).toBeUndefined();
    } finally {
      process.stderr.write = write;
    }
    expect(stderr.join('')).toMatch(/^tsrun: tracing: could not write the trace to .*taken\.otlp\.jsonl: EISDIR\n$/);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('continues the trace of TRACEPARENT: same trace id, the caller\'s span as parent', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { byName } = await traced(async () => undefined, { TRACEPARENT: traceparent, TRACESTATE: 'lab=checker' });
    expect(byName('tsrun test').traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(byName('tsrun test').parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('hands the active span to a process as TRACEPARENT and TRACESTATE', async () => {
    const seen: string[][] = [];
    const { byName } = await traced(() => inSpan('tsrun.exec', {}, () => {
      seen.push(traceContextEnv(['PATH=/bin']));
      seen.push(traceContextEnv(['TRACEPARENT=00-set-by-the-user']));
    }), { TRACEPARENT: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', TRACESTATE: 'lab=checker' });
    const exec = byName('tsrun.exec');
    expect(seen).toEqual([[`TRACEPARENT=00-${exec.traceId}-${exec.spanId}-01`, 'TRACESTATE=lab=checker'], []]);
  });

  it('passes the caller\'s TRACEPARENT and TRACESTATE on unchanged when tracing is off; nothing without a valid one, or with TSRUN_NO_TRACEPARENT=1', async () => {
    expect(await inSpan('tsrun.exec', {}, () => traceContextEnv([]))).toEqual([]);
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    process.env.TRACEPARENT = given;
    process.env.TRACESTATE = 'ci=job-7';
    try {
      expect(await inSpan('tsrun.exec', {}, () => traceContextEnv(['PATH=/bin']))).toEqual([`TRACEPARENT=${given}`, 'TRACESTATE=ci=job-7']);
      expect(traceContextEnv(['TRACEPARENT=00-set-by-the-user'])).toEqual([]);
      process.env.TRACEPARENT = 'not-a-traceparent';
      expect(traceContextEnv([])).toEqual([]);
    } finally {
      delete process.env.TRACEPARENT;
      delete process.env.TRACESTATE;
    }
    process.env.TRACEPARENT = given;
    process.env.TSRUN_NO_TRACEPARENT = '1';
    try {
      expect(traceContextEnv([])).toEqual([]);
    } finally {
      delete process.env.TRACEPARENT;
    }
    process.env.TSRUN_NO_TRACEPARENT = '1';
    try {
      let seen: string[] = ['not called'];
      await traced(() => inSpan('tsrun.exec', {}, () => { seen = traceContextEnv([]); }));
      expect(seen).toEqual([]);
    } finally {
      delete process.env.TSRUN_NO_TRACEPARENT;
    }
  });
});

describe('OTLP/HTTP export', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  /** A collector on 127.0.0.1 that keeps what it receives and answers 200. */
  async function receiver() {
    const received: { url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end(req.headers['content-type']?.includes('json') ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { endpoint: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, received };
  }

  it('sends http/json to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces with the headers and service.name asked for', async () => {
    const { endpoint, received } = await receiver();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-lab=tracing';
    process.env.OTEL_SERVICE_NAME = 'lab-tsrun';
    try {
      const tracing = await startTracing({ file: undefined, exporters: ['otlp']}, TEST, env);
      await tracing.root(() => inSpan('tsrun.pull', {}, () => 1), exitCodeOf);
      expect((await tracing.finish()).settled).toBe(true);
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      delete process.env.OTEL_SERVICE_NAME;
    }
    expect(received.map((r) => r.url)).toEqual(['/v1/traces']);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['x-lab']).toBe('tracing');
    const spans = spansOf([JSON.parse(received[0]!.body.toString('utf8'))]);
    expect(spans.map((s) => s.span.name).sort()).toEqual(['tsrun test', 'tsrun.pull']);
    expect(spans[0]!.resource).toContainEqual({ key: 'service.name', value: { stringValue: 'lab-tsrun' } });
  });

  it('sends http/protobuf by default, to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given', async () => {
    const { endpoint, received } = await receiver();
    const tracing = await startTracing({ file: undefined, exporters: ['otlp']}, TEST, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/custom` });
    await tracing.root(() => inSpan('tsrun.pull', {}, () => 1), exitCodeOf);
    expect((await tracing.finish()).settled).toBe(true);
    expect(received.map((r) => [r.url, r.headers['content-type']])).toEqual([['/custom', 'application/x-protobuf']]);
    // Protobuf keeps strings as they are: the names are in the bytes (decoding them is the collector's job).
    for (const text of ['service.name', 'tsrun', 'tsrun.pull', 'tsrun test']) expect(received[0]!.body.includes(text)).toBe(true);
  });
});
