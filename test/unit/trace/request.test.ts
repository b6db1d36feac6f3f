import { describe, expect, it } from 'vitest';
import { commandName, takeTraceFlag, tracingRequest } from '../../../src/trace/request.js';

describe('takeTraceFlag', () => {
  it('takes --trace and --trace=PATH out of tsrun\'s own words', () => {
    expect(takeTraceFlag(['run', '--trace', '--rm', 'demo', '--', 'true'])).toEqual({ args: ['run', '--rm', 'demo', '--', 'true'], traceFlag: '' });
    expect(takeTraceFlag(['--trace=out/x.json', 'pull', 'demo'])).toEqual({ args: ['pull', 'demo'], traceFlag: 'out/x.json' });
    expect(takeTraceFlag(['ps', '-a'])).toEqual({ args: ['ps', '-a'], traceFlag: undefined });
  });

  it('leaves the container\'s command alone, even where it says --trace', () => {
    expect(takeTraceFlag(['run', 'demo', '--', 'strace', '--trace=open'])).toEqual({ args: ['run', 'demo', '--', 'strace', '--trace=open'], traceFlag: undefined });
  });
});

describe('tracingRequest', () => {
  it('is off unless the flag or OTEL_TRACES_EXPORTER asks (the SDKs default to otlp; tsrun does not)', () => {
    expect(tracingRequest({}, undefined)).toBeUndefined();
    expect(tracingRequest({ OTEL_TRACES_EXPORTER: 'none' }, undefined)).toBeUndefined();
    expect(tracingRequest({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, undefined)).toBeUndefined();
  });

  it('reads the exporters from OTEL_TRACES_EXPORTER, a comma-separated list', () => {
    expect(tracingRequest({ OTEL_TRACES_EXPORTER: ' OTLP, console,otlp' }, undefined)).toEqual({ file: undefined, exporters: ['otlp', 'console'] });
    expect(tracingRequest({ OTEL_TRACES_EXPORTER: 'otlp,none' }, undefined)).toBeUndefined();
  });

  it('warns about exporters it does not know, and carries on without them', () => {
    const warnings: string[] = [];
    expect(tracingRequest({ OTEL_TRACES_EXPORTER: 'zipkin,otlp' }, undefined, (w) => warnings.push(w))?.exporters).toEqual(['otlp']);
    expect(tracingRequest({ OTEL_TRACES_EXPORTER: 'jaeger' }, undefined, (w) => warnings.push(w))).toBeUndefined();
    expect(warnings).toEqual([
      'OTEL_TRACES_EXPORTER=zipkin is not an exporter tsrun knows — use otlp, console or none',
      'OTEL_TRACES_EXPORTER=jaeger is not an exporter tsrun knows — use otlp, console or none',
    ]);
  });

  it('lets OTEL_SDK_DISABLED=true switch the environment\'s exporters off, but not the --trace typed for this command', () => {
    expect(tracingRequest({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, undefined)).toBeUndefined();
    expect(tracingRequest({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }, 'dir')).toEqual({ file: 'dir', exporters: [] });
    expect(tracingRequest({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }, undefined)?.exporters).toEqual(['otlp']);
  });
});

describe('commandName', () => {
  it('is the first word that is not an option, skipping the value of --root', () => {
    expect(commandName(['run', '--rm', 'demo', '--', 'true'])).toBe('run');
    expect(commandName(['--root', '/x', 'pull', 'demo'])).toBe('pull');
    expect(commandName(['--root=/x', 'ps'])).toBe('ps');
    expect(commandName(['--help'])).toBe('help');
  });
});
