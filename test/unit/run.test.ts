// The pipeline (src/run.ts) with every stage and the container lifecycle replaced by recording fakes: the
// six stages in order, each in its span between the observer's two calls, what each hands the next, and what
// is released when one of them fails. No root, no container: only the order and the bookkeeping.
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../src/stages/pull.js', () => ({ pull: vi.fn() }));
vi.mock('../../src/stages/create.js', () => ({ create: vi.fn() }));
vi.mock('../../src/stages/rwlayer.js', () => ({ rwlayer: vi.fn() }));
vi.mock('../../src/stages/network.js', () => ({ network: vi.fn(), handOverNetwork: vi.fn() }));
vi.mock('../../src/stages/namespaces.js', () => ({ namespaces: vi.fn() }));
vi.mock('../../src/stages/exec.js', () => ({ exec: vi.fn(), execDetached: vi.fn() }));
vi.mock('../../src/containers/lifecycle.js', () => ({ claim: vi.fn(), recordExit: vi.fn(), recordFailedStart: vi.fn(), releaseContainer: vi.fn() }));
vi.mock('../../src/containers/reconcile.js', () => ({ reconcile: vi.fn() }));

import { createContainer, pullImage, run, runDetached } from '../../src/run.js';
import { pull } from '../../src/stages/pull.js';
import { create } from '../../src/stages/create.js';
import { rwlayer } from '../../src/stages/rwlayer.js';
import { handOverNetwork, network } from '../../src/stages/network.js';
import { namespaces } from '../../src/stages/namespaces.js';
import { exec, execDetached } from '../../src/stages/exec.js';
import { claim, recordExit, recordFailedStart, releaseContainer } from '../../src/containers/lifecycle.js';
import { reconcile } from '../../src/containers/reconcile.js';
import type { ContainerRecord, ExitRecord, NamespacesPlan, NetworkPlan, RootfsPlan, RunObserver, RunRequest, StageName } from '../../src/container.js';
import { DEFAULT_SECURITY } from '../../src/security/options.js';
import { processStartTime } from '../../src/kernel/proc.js';
import { addContainer } from '../../src/store/containers.js';
import type { ImageRecord } from '../../src/store/images.js';
import { fakeSyscalls } from '../helpers/fake-syscalls.js';
import { tempStore } from '../helpers/temp-store.js';

const ID = 'c'.repeat(64);
const IMAGE = { id: 'sha256:' + 'a'.repeat(64) } as ImageRecord;
const CREATED: ContainerRecord = {
  id: ID, name: 'box', created: '2026-01-01T00:00:00Z',
  image: { id: IMAGE.id, name: 'demo', layers: [] },
  config: { argv: ['sh', '-c', 'exit 3'], env: [], workingDir: '/', user: '', hostname: 'box', tty: false, interactive: false, autoRemove: true },
  state: { status: 'created', pid: null, pidStartTime: null, exitCode: null, startedAt: null, finishedAt: null, error: '' },
};
/** What claim() returns: the record that names this tsrun as its owner, and that every later stage gets. */
const CLAIMED: ContainerRecord = { ...CREATED, state: { ...CREATED.state, owner: { pid: 1, startTime: null } } };
const ROOTFS = { mountpoint: '/rootfs' } as RootfsPlan;
const NET = { mode: 'none' } as NetworkPlan;
const NS = { cloneFlags: ['CLONE_NEWNS'] } as NamespacesPlan;
const EXIT: ExitRecord = { pid: 42, exitCode: 3, signal: null, startedAt: 'then', finishedAt: 'now' };
const STARTED = { pid: process.pid, startedAt: 'then', monitorPid: process.pid, logPath: '/log' };
const STAGE_ORDER: StageName[] = ['pull', 'create', 'rwlayer', 'network', 'namespaces', 'exec'];

const request = (overrides: Partial<RunRequest> = {}): RunRequest => ({
  image: 'demo', pull: 'always', command: [], env: [], interactive: false, stdinOnce: false, tty: false, autoRemove: true, network: 'none', aliases: [], labels: {},
  ports: [], publishAll: false, mounts: [], readOnly: false, restart: { name: 'no', maximumRetryCount: 0 }, resources: {},
  security: DEFAULT_SECURITY, ...overrides,
});

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()); // so a stage sees its span as the active one
});
afterAll(() => {
  trace.disable();
  context.disable();
});

/** The name of the span a fake runs in, as the SDK's span knows it. */
const activeSpan = () => (trace.getActiveSpan() as unknown as { name: string } | undefined)?.name;

describe('the pipeline', () => {
  let store: ReturnType<typeof tempStore>;
  let runtime: { sys: ReturnType<typeof fakeSyscalls>; paths: typeof store };
  /** What happened, in order: each stage with the span it ran in, the observer's calls, the lifecycle's. */
  let events: string[];
  let results: Partial<Record<StageName, unknown>>;
  let observer: RunObserver;
  /** The step that throws, and what it throws. */
  let failing: string | undefined;
  const failure = new Error('the stage failed');

  /** A fake stage: notes that it ran and in which span, then returns `result`, or throws if it is the failing one. */
  const fake = <T>(name: string, result: T) => async (): Promise<T> => {
    events.push(`${name} in ${activeSpan() ?? 'no span'}`);
    if (failing === name) throw failure;
    return result;
  };

  beforeEach(() => {
    store = tempStore();
    runtime = { sys: fakeSyscalls(), paths: store };
    events = [];
    results = {};
    failing = undefined;
    exporter.reset();
    observer = {
      stageStarting: (stage) => { events.push(`starting ${stage}${activeSpan() ? ` in ${activeSpan()}` : ''}`); },
      stageFinished: (stage, result) => { events.push(`finished ${stage}`); results[stage] = result; },
    };
    vi.mocked(pull).mockImplementation(fake('pull', IMAGE));
    vi.mocked(create).mockImplementation(fake('create', CREATED));
    vi.mocked(rwlayer).mockImplementation(fake('rwlayer', ROOTFS));
    vi.mocked(network).mockImplementation(fake('network', NET));
    vi.mocked(namespaces).mockImplementation(fake('namespaces', NS));
    vi.mocked(exec).mockImplementation(fake('exec', EXIT));
    vi.mocked(execDetached).mockImplementation(fake('exec', STARTED));
    vi.mocked(handOverNetwork).mockImplementation(fake('handOverNetwork', undefined));
    vi.mocked(claim).mockImplementation(() => { events.push('claim'); return CLAIMED; });
    vi.mocked(recordExit).mockImplementation(() => { events.push('recordExit'); });
    vi.mocked(recordFailedStart).mockImplementation(() => { events.push('recordFailedStart'); });
    vi.mocked(releaseContainer).mockImplementation(async () => { events.push('release'); });
    vi.mocked(reconcile).mockImplementation(async (_, container) => { events.push(`reconcile ${container.name}`); return null; });
  });
  afterEach(() => {
    vi.clearAllMocks();
    store.remove();
  });

  /** A stage as the events show it when it succeeds. */
  const ran = (stage: StageName) => [`starting ${stage}`, `${stage} in tsrun.${stage}`, `finished ${stage}`];

  describe('run', () => {
    it('runs pull, create, rwlayer, network, namespaces and exec in that order, each in its span between the observer\'s calls', async () => {
      expect(await run(runtime, request(), { observer })).toBe(EXIT);
      expect(events).toEqual([
        ...ran('pull'), ...ran('create'), 'claim', ...ran('rwlayer'), ...ran('network'), ...ran('namespaces'), ...ran('exec'),
        'recordExit', 'release',
      ]);
      expect(results).toEqual({ pull: IMAGE, create: CREATED, rwlayer: ROOTFS, network: NET, namespaces: NS, exec: EXIT });

      const spans = exporter.getFinishedSpans();
      expect(spans.map((span) => span.name)).toEqual(STAGE_ORDER.map((stage) => `tsrun.${stage}`));
      expect(spans.every((span) => span.status.code !== SpanStatusCode.ERROR)).toBe(true);
      for (const stage of ['rwlayer', 'network', 'namespaces'] as const) {
        expect(spans.find((span) => span.name === `tsrun.${stage}`)!.attributes).toEqual({ 'container.id': ID });
      }
      expect(spans.find((span) => span.name === 'tsrun.exec')!.attributes).toEqual({ 'container.id': ID, 'process.command_args': ['sh', '-c', 'exit 3'] });
    });

    it('hands each stage what the earlier ones made, and the claimed record to every stage after create', async () => {
      const io = { stdin: 5, stdout: 6, stderr: 7 };
      const req = request();
      await run(runtime, req, { observer, io });
      expect(vi.mocked(pull).mock.calls).toEqual([[runtime, 'demo', { policy: 'always' }]]);
      expect(vi.mocked(create).mock.calls).toEqual([[runtime, IMAGE, req]]);
      expect(vi.mocked(claim).mock.calls).toEqual([[runtime, CREATED]]);
      expect(vi.mocked(rwlayer).mock.calls).toEqual([[runtime, CLAIMED]]);
      expect(vi.mocked(network).mock.calls).toEqual([[runtime, CLAIMED]]);
      expect(vi.mocked(namespaces).mock.calls).toEqual([[runtime, CLAIMED, ROOTFS, NET]]);
      expect(vi.mocked(exec).mock.calls).toEqual([[runtime, CLAIMED, ROOTFS, NS, io, observer]]);
      expect(vi.mocked(recordExit).mock.calls).toEqual([[runtime, CLAIMED, EXIT]]);
      expect(vi.mocked(releaseContainer).mock.calls).toEqual([[runtime, CLAIMED]]);
    });

    it.each(['rwlayer', 'network', 'namespaces', 'exec'] as const)(
      'when %s fails: no later stage runs, the failed start is recorded, the container released once, and the error reaches the caller',
      async (stage) => {
        failing = stage;
        await expect(run(runtime, request(), { observer })).rejects.toBe(failure);
        const upTo = STAGE_ORDER.indexOf(stage);
        expect(events).toEqual([
          ...ran('pull'), ...ran('create'), 'claim',
          ...STAGE_ORDER.slice(2, upTo).flatMap(ran), `starting ${stage}`, `${stage} in tsrun.${stage}`,
          'recordFailedStart', 'release',
        ]);
        expect(vi.mocked(recordFailedStart).mock.calls).toEqual([[runtime, CLAIMED, failure]]);
        expect(vi.mocked(releaseContainer).mock.calls).toEqual([[runtime, CLAIMED]]);
        expect(recordExit).not.toHaveBeenCalled();
        const spans = exporter.getFinishedSpans();
        expect(spans.map((span) => span.name)).toEqual(STAGE_ORDER.slice(0, upTo + 1).map((name) => `tsrun.${name}`));
        expect(spans.at(-1)!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the stage failed' });
      },
    );

    it.each(['pull', 'create'] as const)('when %s fails there is no started container: nothing is claimed, recorded or released', async (stage) => {
      failing = stage;
      await expect(run(runtime, request(), { observer })).rejects.toBe(failure);
      expect(events).toEqual(stage === 'pull' ? ['starting pull', 'pull in tsrun.pull'] : [...ran('pull'), 'starting create', 'create in tsrun.create']);
      for (const lifecycle of [claim, recordFailedStart, recordExit, releaseContainer]) expect(lifecycle).not.toHaveBeenCalled();
    });

    it('runs without an observer', async () => {
      expect(await run(runtime, request())).toBe(EXIT);
      expect(events.filter((event) => event.includes(' in '))).toEqual(STAGE_ORDER.map((stage) => `${stage} in tsrun.${stage}`));
    });
  });

  describe('run -d', () => {
    it('runs the same stages, exec detached, hands the network to the container\'s process, and releases nothing', async () => {
      const started = await runDetached(runtime, request(), { observer });
      expect(started).toEqual({ container: CREATED, started: STARTED });
      expect(events).toEqual([
        ...ran('pull'), ...ran('create'), 'claim', ...ran('rwlayer'), ...ran('network'), ...ran('namespaces'), ...ran('exec'),
        'handOverNetwork in no span',
      ]);
      expect(vi.mocked(execDetached).mock.calls).toEqual([[runtime, CLAIMED, ROOTFS, NS]]);
      expect(exec).not.toHaveBeenCalled();
      expect(vi.mocked(handOverNetwork).mock.calls).toEqual([[runtime, CLAIMED, { pid: STARTED.pid, startTime: processStartTime(STARTED.pid) }]]);
      for (const lifecycle of [recordFailedStart, recordExit, releaseContainer]) expect(lifecycle).not.toHaveBeenCalled();
      expect(exporter.getFinishedSpans().find((span) => span.name === 'tsrun.exec')!.attributes).toMatchObject({ 'container.id': ID, 'tsrun.detached': true });
    });

    it.each(['rwlayer', 'network', 'namespaces', 'exec', 'handOverNetwork'] as const)(
      'when %s fails: no later step runs, the failed start is recorded and the container released once, and the error reaches the caller',
      async (step) => {
        failing = step;
        await expect(runDetached(runtime, request(), { observer })).rejects.toBe(failure);
        const ranAt = events.indexOf(`${step} in ${step === 'handOverNetwork' ? 'no span' : `tsrun.${step}`}`);
        expect(ranAt).toBeGreaterThan(0);
        expect(events.slice(ranAt + 1)).toEqual(['recordFailedStart', 'release']);
        expect(vi.mocked(recordFailedStart).mock.calls).toEqual([[runtime, CLAIMED, failure]]);
        expect(vi.mocked(releaseContainer).mock.calls).toEqual([[runtime, CLAIMED]]);
      },
    );
  });

  describe('a name held by a container', () => {
    async function holder(name: string) {
      return addContainer(runtime.sys, store, { ...CREATED, id: 'd'.repeat(64), name, config: { ...CREATED.config, autoRemove: true } });
    }

    it('reconciles the container that holds the name asked for before pulling: a dead --rm one gives it back', async () => {
      const dead = await holder('web');
      await createContainer(runtime, request({ name: 'web' }), { observer });
      expect(events.slice(0, 2)).toEqual(['reconcile web', 'starting pull']);
      expect(vi.mocked(reconcile).mock.calls).toEqual([[runtime, dead]]);
    });

    it('reconciles nothing when no container holds the name, or none is asked for', async () => {
      await holder('web');
      await createContainer(runtime, request({ name: 'other' }));
      await createContainer(runtime, request());
      expect(reconcile).not.toHaveBeenCalled();
    });
  });

  it('pullImage runs the pull stage alone, in its span, with the options given', async () => {
    const options = { policy: 'missing' as const, platform: 'linux/arm64' };
    expect(await pullImage(runtime, 'demo', options)).toBe(IMAGE);
    expect(vi.mocked(pull).mock.calls).toEqual([[runtime, 'demo', options]]);
    expect(events).toEqual(['pull in tsrun.pull']);
  });
});
