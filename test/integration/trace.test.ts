// `tsrun --trace` and OTEL_TRACES_EXPORTER for real, as root: the trace of a
// run of the demo image, in files and at a receiver on 127.0.0.1; a collector
// that is down or never answers doesn't keep tsrun from exiting; TRACEPARENT in
// and out; and with tracing off, the OpenTelemetry SDK is not even loaded.
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../src/container.js';
import { parseOtlpLines, plainValue, spansOf, type OtlpSpan } from '../../src/trace/otlp-json.js';
import type { JaegerFile } from '../../src/trace/jaeger.js';
import { storeWithDemoImage, tsrun, TSRUN } from '../helpers/cli.js';
import { expectJaegerShape } from '../unit/trace/jaeger-shape.js';
import { startRegistry } from '../helpers/registry.js';

const asRoot = process.getuid?.() === 0;
const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };

/** tsrun without blocking this process, so a receiver in it can answer. */
function tsrunAsync(root: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [TSRUN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env, TSRUN_ROOT: root }, timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const attribute = (span: OtlpSpan, key: string) => {
  const found = span.attributes?.find((kv) => kv.key === key);
  return found && plainValue(found.value);
};

describe.skipIf(!asRoot)('tracing tsrun run (as root)', () => {
  let root: string;
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  /** Listen on 127.0.0.1, and be closed with every connection after the test. */
  async function listen(server: net.Server): Promise<number> {
    servers.push(server);
    server.on('connection', (socket: net.Socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    root = await storeWithDemoImage('trace');
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Run with --trace=FILE; the spans written, and the run's output. */
  function tracedRun(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    const file = path.join(root, 'traces', `${name}.json`);
    const result = tsrun(root, ['run', `--trace=${file}`, '--rm', ...args], { env });
    const spans = spansOf(parseOtlpLines(fs.readFileSync(file.replace(/\.json$/, '.otlp.jsonl'), 'utf8'))).map((s) => s.span);
    const byName = (spanName: string) => spans.find((s) => s.name === spanName)!;
    return { result, spans, byName, jaeger: JSON.parse(fs.readFileSync(file.replace(/\.json$/, '.jaeger.json'), 'utf8')) as JaegerFile };
  }

  it('traces a run as a root span `tsrun run` with one child per stage, in order, then the release', () => {
    const { result, spans, byName } = tracedRun('ok', ['tsrun-demo', 'sh', '-c', 'exit 3']);
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/^tsrun: trace written to .*ok\.jaeger\.json .* and .*ok\.otlp\.jsonl\n$/);
    const rootSpan = byName('tsrun run');
    expect(rootSpan.parentSpanId ?? '').toBe('');
    const stages = spans.filter((s) => s.parentSpanId === rootSpan.spanId)
      .sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    expect(stages.map((s) => s.name)).toEqual([...STAGES.map((stage) => `tsrun.${stage}`), 'tsrun.release']);
    expect(attribute(rootSpan, 'container.runtime.name')).toBe('tsrun');
    expect(attribute(rootSpan, 'process.exit.code')).toBe(3);
    expect(attribute(byName('tsrun.exec'), 'process.exit.code')).toBe(3);
    expect(attribute(byName('tsrun.exec'), 'process.command_args')).toEqual(['sh', '-c', 'exit 3']);
    expect(attribute(byName('tsrun.pull'), 'container.image.name')).toBe('tsrun-demo');
    expect(spans.every((s) => s.status?.code !== 2)).toBe(true);
  });

  it('shows the child\'s steps, timed by the child itself, and the wait, as spans under tsrun.exec', () => {
    const { spans, byName } = tracedRun('child', ['--network', 'none', 'tsrun-demo', 'true']);
    const exec = byName('tsrun.exec');
    const under = spans.filter((s) => s.parentSpanId === exec.spanId).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    expect(under.map((s) => s.name)).toEqual([
      'tsrun.child.clone', 'tsrun.child.propagation', 'tsrun.child.cgroup', 'tsrun.child.network', 'tsrun.child.hostname',
      'tsrun.child.overlay-mount', 'tsrun.child.pseudo-filesystems', 'tsrun.child.etc-files', 'tsrun.child.masks',
      'tsrun.child.pivot_root', 'tsrun.child.process', 'tsrun.child.bounding-set', 'tsrun.child.seccomp', 'tsrun.child.user',
      'tsrun.child.capabilities', 'tsrun.child.execve', 'tsrun.exec.wait',
    ]);
    // One after the other, inside tsrun.exec: the child's clock and tsrun's agree.
    const times = (s: OtlpSpan) => [BigInt(s.startTimeUnixNano), BigInt(s.endTimeUnixNano)] as const;
    const [execStart, execEnd] = times(exec);
    under.forEach((span, i) => {
      const [start, end] = times(span);
      expect(start, span.name).toBeGreaterThanOrEqual(execStart);
      expect(end, span.name).toBeLessThanOrEqual(execEnd);
      expect(end, span.name).toBeGreaterThanOrEqual(start);
      if (i > 0) expect(start, span.name).toBeGreaterThanOrEqual(times(under[i - 1]!)[1]);
    });
    expect(attribute(byName('tsrun.child.overlay-mount'), 'tsrun.child.steps')).toEqual([expect.stringMatching(/^mount overlay on .*\/rootfs -o lowerdir=/)]);
    expect(attribute(byName('tsrun.child.pivot_root'), 'tsrun.child.steps')).toContain('pivot_root . .');
    expect(attribute(byName('tsrun.child.clone'), 'tsrun.namespaces')).toContain('CLONE_NEWPID');
  });

  it('shows the network stage\'s steps on the bridge', () => {
    const { spans, byName } = tracedRun('bridge', ['tsrun-demo', 'true']);
    const network = byName('tsrun.network');
    expect(spans.filter((s) => s.parentSpanId === network.spanId).map((s) => s.name).sort())
      .toEqual(['tsrun.network.address', 'tsrun.network.bridge', 'tsrun.network.netns', 'tsrun.network.veth']);
    expect(attribute(byName('tsrun.network.veth'), 'network.interface.name')).toMatch(/^tsrun[0-9a-f]{8}$/);
  });

  it('shows what the release gives back after the container exits: its network, its cgroup, and with --rm the container', () => {
    const { spans, byName } = tracedRun('release', ['tsrun-demo', 'true']);
    const release = byName('tsrun.release');
    expect(spans.filter((s) => s.parentSpanId === release.spanId).map((s) => s.name))
      .toEqual(['tsrun.release.network', 'tsrun.release.cgroup', 'tsrun.release.remove']);
    expect(attribute(release, 'tsrun.auto_remove')).toBe(true);
    expect(BigInt(release.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(byName('tsrun.exec').endTimeUnixNano));
    // Nothing to give back for --network none: no network span.
    const none = tracedRun('release-none', ['--network', 'none', 'tsrun-demo', 'true']);
    expect(none.spans.filter((s) => s.parentSpanId === none.byName('tsrun.release').spanId).map((s) => s.name))
      .toEqual(['tsrun.release.cgroup', 'tsrun.release.remove']);
  });

  it('marks a failing run ERROR, with the exception, on tsrun.exec and the root', () => {
    const { result, byName } = tracedRun('fail', ['tsrun-demo', 'no-such-command']);
    expect(result.status).toBe(127);
    for (const name of ['tsrun.exec', 'tsrun run']) {
      const span = byName(name);
      expect(span.status).toEqual({ code: 2, message: 'exec: "no-such-command": executable file not found in $PATH' });
      expect(span.events?.map((e) => e.name)).toEqual(['exception']);
    }
    // The step that failed, and nothing after it: the container never ran.
    expect(byName('tsrun.child.execve').status).toEqual({ code: 2, message: 'exec: "no-such-command": executable file not found in $PATH' });
    expect(byName('tsrun.exec.wait')).toBeUndefined();
    expect(attribute(byName('tsrun run'), 'process.exit.code')).toBe(127); // the code tsrun exits with
  });

  it('writes Jaeger JSON that Jaeger UI can load, the same spans as the OTLP file', () => {
    const { spans, jaeger } = tracedRun('jaeger', ['tsrun-demo', 'true']);
    expectJaegerShape(jaeger);
    expect(jaeger.data).toHaveLength(1);
    expect(jaeger.data[0]!.spans.map((s) => s.spanID).sort()).toEqual(spans.map((s) => s.spanId).sort());
    expect(jaeger.data[0]!.processes.p1!.serviceName).toBe('tsrun');
  });

  it('writes a bare --trace to ./traces/ under the current directory', async () => {
    const cwd = fs.mkdtempSync(path.join(root, 'cwd-'));
    const result = await tsrunAsync(root, ['run', '--rm', '--trace', 'tsrun-demo', 'true'], {}, cwd);
    expect(result.status).toBe(0);
    const written = fs.readdirSync(path.join(cwd, 'traces')).sort();
    expect(written).toEqual([expect.stringMatching(/^tsrun-run-\d{8}T\d{6}Z-[0-9a-f]{8}\.jaeger\.json$/), expect.stringMatching(/^tsrun-run-\d{8}T\d{6}Z-[0-9a-f]{8}\.otlp\.jsonl$/)]);
  });

  it('continues the trace of TRACEPARENT from the environment', () => {
    const { byName } = tracedRun('parent', ['tsrun-demo', 'true'], { TRACEPARENT: `00-${CALLER.traceId}-${CALLER.spanId}-01` });
    expect(byName('tsrun run').traceId).toBe(CALLER.traceId);
    expect(byName('tsrun run').parentSpanId).toBe(CALLER.spanId);
    expect(byName('tsrun.exec').traceId).toBe(CALLER.traceId);
  });

  it('gives the container TRACEPARENT naming the tsrun.exec span, unless told not to; not tracing, the caller\'s, unchanged', () => {
    const { result, byName } = tracedRun('out', ['tsrun-demo', 'env'], { TRACESTATE: 'lab=1', TRACEPARENT: `00-${CALLER.traceId}-${CALLER.spanId}-01` });
    const exec = byName('tsrun.exec');
    expect(result.stdout).toContain(`TRACEPARENT=00-${exec.traceId}-${exec.spanId}-01\n`);
    expect(result.stdout).toContain('TRACESTATE=lab=1\n');
    expect(tracedRun('opt-out', ['tsrun-demo', 'env'], { TSRUN_NO_TRACEPARENT: '1' }).result.stdout).not.toContain('TRACEPARENT=');
    const flagged = tracedRun('opt-out-flag', ['--no-traceparent', 'tsrun-demo', 'env']);
    expect(flagged.result.status).toBe(0);
    expect(flagged.result.stdout).not.toContain('TRACEPARENT=');
    expect(tsrun(root, ['run', '--rm', 'tsrun-demo', 'env']).stdout).not.toContain('TRACEPARENT=');
    // Not tracing, but called by a job that is: its context goes on to the program in the container as it came.
    const caller = `00-${CALLER.traceId}-${CALLER.spanId}-01`;
    const passed = tsrun(root, ['run', '--rm', 'tsrun-demo', 'env'], { env: { TRACEPARENT: caller, TRACESTATE: 'ci=7' } }).stdout;
    expect(passed).toContain(`TRACEPARENT=${caller}\n`);
    expect(passed).toContain('TRACESTATE=ci=7\n');
    expect(tsrun(root, ['run', '--rm', '--no-traceparent', 'tsrun-demo', 'env'], { env: { TRACEPARENT: caller } }).stdout).not.toContain('TRACEPARENT=');
  });

  it('exports over OTLP/HTTP (json and protobuf) to a receiver, with service.name', async () => {
    const received: { contentType: string; body: Buffer }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? '' }).end(req.headers['content-type']?.includes('json') ? '{}' : '');
      });
    });
    const endpoint = `http://127.0.0.1:${await listen(server)}`;
    for (const protocol of ['http/json', 'http/protobuf']) {
      const result = await tsrunAsync(root, ['run', '--rm', 'tsrun-demo', 'true'], { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: 'lab' });
      expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    }
    expect(received.map((r) => r.contentType)).toEqual(['application/json', 'application/x-protobuf']);
    const spans = spansOf([JSON.parse(received[0]!.body.toString('utf8'))]);
    expect(spans.map((s) => s.span.name)).toEqual(expect.arrayContaining(['tsrun run', ...STAGES.map((stage) => `tsrun.${stage}`)]));
    expect(spans[0]!.resource).toContainEqual({ key: 'service.name', value: { stringValue: 'lab' } });
    for (const text of ['service.name', 'lab', 'tsrun run', 'tsrun.exec']) expect(received[1]!.body.includes(text)).toBe(true);
  });

  it('exports over OTLP/gRPC to a receiver, with headers and service.name, and warns once when there is none', async () => {
    // A gRPC server with the OTLP trace service's one method, taking the request's protobuf bytes as they are.
    const received: { body: Buffer; lab: grpc.MetadataValue[] }[] = [];
    const raw = (bytes: Buffer) => bytes;
    const exportMethod = {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false,
      requestSerialize: raw, requestDeserialize: raw, responseSerialize: () => Buffer.alloc(0), responseDeserialize: raw,
    };
    const server = new grpc.Server();
    server.addService({ Export: exportMethod }, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        received.push({ body: call.request, lab: call.metadata.get('x-lab') });
        callback(null, Buffer.alloc(0));
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    const env = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_HEADERS: 'x-lab=grpc', OTEL_SERVICE_NAME: 'lab' };
    try {
      const result = await tsrunAsync(root, ['run', '--rm', 'tsrun-demo', 'true'], { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
      expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    } finally {
      server.forceShutdown();
    }
    expect(received.map((r) => r.lab)).toEqual([['grpc']]);
    for (const text of ['service.name', 'lab', 'tsrun run', 'tsrun.exec']) expect(received[0]!.body.includes(text)).toBe(true);

    // The same port, now closed: one warning, and the container's exit code.
    const result = await tsrunAsync(root, ['run', '--rm', 'tsrun-demo', 'sh', '-c', 'exit 4'], { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`^tsrun: tracing: could not export the trace to http://127.0.0.1:${port}: 14 UNAVAILABLE: .*ECONNREFUSED.* — is a collector listening there\\? \\(OTEL_EXPORTER_OTLP_ENDPOINT\\)\\n$`));
  });

  it('exits with the container\'s code and one warning when the collector is down or never answers', async () => {
    // A port nobody listens on: take a free one and close it again.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const downPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    // A blackhole: accepts connections and never answers.
    const blackholePort = await listen(net.createServer(() => undefined));

    for (const port of [downPort, blackholePort]) {
      const endpoint = `http://127.0.0.1:${port}`;
      const result = await tsrunAsync(root, ['run', '--rm', 'tsrun-demo', 'sh', '-c', 'exit 4'], { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      expect(result.status).toBe(4); // not killed by the 30 s timeout of tsrunAsync: it ended by itself
      expect(result.stderr).toMatch(new RegExp(`^tsrun: tracing: could not export the trace to ${endpoint}/v1/traces: .* — is a collector listening there\\? \\(OTEL_EXPORTER_OTLP_ENDPOINT\\)\\n$`));
    }
  });

  it('loads the OpenTelemetry SDK only when tracing is asked for', async () => {
    // A module hook that writes down every module the CLI loads, and every file it reads: the CLI's
    // bundles, tracing.cjs among them, are read and compiled by src/cli/load-bundle.ts, not imported.
    const hooks = path.join(root, 'record-hooks.mjs');
    const register = path.join(root, 'record-register.mjs');
    fs.writeFileSync(hooks, `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.appendFileSync(process.env.TSRUN_TEST_MODULE_LOG, resolved.url + '\\n');
  return resolved;
}
`);
    fs.writeFileSync(register, `import fs from 'node:fs';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify('file://' + hooks)});
const readFileSync = fs.readFileSync;
fs.readFileSync = function (file, ...rest) {
  if (typeof file === 'string') fs.appendFileSync(process.env.TSRUN_TEST_MODULE_LOG, pathToFileURL(file).href + '\\n');
  return readFileSync.call(this, file, ...rest);
};
`);
    const sdkChunksLoaded = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const log = path.join(root, `modules-${Math.random().toString(36).slice(2)}.log`);
      const result = await tsrunAsync(root, args, { ...env, TSRUN_TEST_MODULE_LOG: log, NODE_OPTIONS: `--import=${register}` });
      expect(result.status).toBe(0);
      const files = [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter((url) => url.includes('/dist/bundle/')))];
      expect(files.length).toBeGreaterThan(0);
      // The bundle keeps class names: the SDK's tracer provider is there in whichever chunk holds it.
      return files.filter((url) => fs.readFileSync(new URL(url), 'utf8').includes('BasicTracerProvider'));
    };
    expect(await sdkChunksLoaded(['run', '--rm', 'tsrun-demo', 'true'])).toEqual([]);
    expect(await sdkChunksLoaded(['run', '--rm', 'tsrun-demo', 'true'], { OTEL_TRACES_EXPORTER: 'none' })).toEqual([]);
    expect(await sdkChunksLoaded(['run', '--rm', `--trace=${path.join(root, 'traces', 'loaded.json')}`, 'tsrun-demo', 'true']))
      .toContainEqual(expect.stringMatching(/\/dist\/bundle\/tracing\.cjs$/));
  });

  it('compiles the bundles from the code caches the build made', () => {
    // In a process of its own, as bin/tsrun.js does: where the CLI finds them, beside the bundles.
    const loader = path.resolve('dist/bundle/load-bundle.cjs');
    const files = ['tsrun.cjs', 'tracing.cjs', 'otel-api.cjs', 'otlp.cjs'].map((name) => path.resolve('dist/bundle', name));
    const result = spawnSync(process.execPath, ['-e', `
      const { loadBundle, codeCacheAccepted } = require(${JSON.stringify(loader)});
      const files = ${JSON.stringify(files)};
      const exported = files.map((file) => Object.keys(loadBundle(file)).sort().join(' '));
      console.log(JSON.stringify({ exported, accepted: files.map(codeCacheAccepted) }));
    `], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const { exported, accepted } = JSON.parse(result.stdout) as { exported: string[]; accepted: boolean[] };
    expect(exported.slice(0, 2)).toEqual(['main', 'startTracing']);
    expect(exported[2]).toContain('trace');
    expect(exported[3]).toContain('otlpExporter');
    expect(accepted).toEqual([true, true, true, true]); // false: no cache at all, or V8 refused it
  });
});

describe.skipIf(!asRoot)('what a trace keeps of a run\'s secrets (as root)', () => {
  let root: string;
  beforeAll(async () => {
    root = await storeWithDemoImage('trace-secrets');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Both files of the trace --trace=`file` wrote, as text. */
  const traceText = (file: string) => ['.otlp.jsonl', '.jaeger.json'].map((suffix) => fs.readFileSync(file.replace(/\.json$/, suffix), 'utf8'));

  it('records the names of -e and --env-file variables, never their values; the files 0600 in a directory made 0700', () => {
    const envFile = path.join(root, 'app.env');
    fs.writeFileSync(envFile, 'FILE_TOKEN=f1le-s3cret\n');
    const file = path.join(root, 'secret-traces', 'run.json');
    const result = tsrun(root, ['run', `--trace=${file}`, '--rm', '--network', 'none', '-e', 'SECRET_TOKEN=s3cr3t-value',
      '--env-file', envFile, 'tsrun-demo', 'env']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('SECRET_TOKEN=s3cr3t-value\n'); // the container has them
    expect(result.stdout).toContain('FILE_TOKEN=f1le-s3cret\n');
    for (const text of traceText(file)) {
      expect(text).not.toContain('s3cr3t-value');
      expect(text).not.toContain('f1le-s3cret');
      expect(text).not.toContain('FILE_TOKEN'); // the env file's lines are never read into a span
      expect(text).toContain('SECRET_TOKEN=<redacted>');
      expect(text).toContain(envFile);
    }
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    for (const suffix of ['.otlp.jsonl', '.jaeger.json']) expect(fs.statSync(file.replace(/\.json$/, suffix)).mode & 0o777).toBe(0o600);
  });

  it('records nothing of login\'s password, whether the registry takes it, refuses it or does not answer', async () => {
    const registry = await startRegistry({ htpasswd: { username: 'ada', password: 'hunt3r2-pass' } });
    try {
      const logins = [
        { args: ['-u', 'ada', '-p', 'hunt3r2-pass', registry.host], status: 0, secret: 'hunt3r2-pass' },
        { args: ['-u', 'ada', '--password=wr0ng-pass', registry.host], status: 125, secret: 'wr0ng-pass' },
        { args: ['-u', 'ada', '-p', 'n0b0dy-pass', '127.0.0.1:1'], status: 125, secret: 'n0b0dy-pass' }, // nothing listens on port 1
      ];
      for (const [i, { args, status, secret }] of logins.entries()) {
        const file = path.join(root, 'secret-traces', `login-${i}.json`);
        expect(tsrun(root, [`--trace=${file}`, 'login', ...args]).status, args.join(' ')).toBe(status);
        for (const text of traceText(file)) {
          expect(text).not.toContain(secret);
          expect(text).toContain('<redacted>');
        }
      }
    } finally {
      await registry.stop();
    }
  });

  it('replaces a symbolic link planted at the trace\'s name, and leaves the file it points to untouched', () => {
    const dir = fs.mkdtempSync(path.join(root, 'planted-'));
    const target = path.join(root, 'precious');
    fs.writeFileSync(target, 'untouched\n', { mode: 0o644 });
    for (const suffix of ['.otlp.jsonl', '.jaeger.json']) fs.symlinkSync(target, path.join(dir, `run${suffix}`));
    const result = tsrun(root, ['run', `--trace=${path.join(dir, 'run.json')}`, '--rm', '--network', 'none', 'tsrun-demo', 'true']);
    expect(result.status).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(fs.statSync(target).mode & 0o777).toBe(0o644);
    for (const suffix of ['.otlp.jsonl', '.jaeger.json']) {
      const written = path.join(dir, `run${suffix}`);
      expect(fs.lstatSync(written).isFile()).toBe(true);
      expect(fs.statSync(written).mode & 0o777).toBe(0o600);
    }
    expect(spansOf(parseOtlpLines(fs.readFileSync(path.join(dir, 'run.otlp.jsonl'), 'utf8'))).map((s) => s.span.name)).toContain('tsrun run');
  });
});
