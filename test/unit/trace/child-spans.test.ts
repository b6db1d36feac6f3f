import { describe, expect, it } from 'vitest';
import { stepsAndSpans, type ChildStep } from '../../../src/kernel/steps.js';
import { childSpans } from '../../../src/trace/child-spans.js';

const mount: ChildStep = { op: 'mount', source: '', target: '/', fstype: '', flags: ['MS_REC', 'MS_PRIVATE'], data: '' };
const hostname: ChildStep = { op: 'sethostname', name: 'box' };
const pivot: ChildStep = { op: 'pivot_root', new_root: '.', put_old: '.' };
const execve: ChildStep = { op: 'execve', file: 'true', search: ['/bin'], argv: ['true'], envp: [] };

describe('stepsAndSpans', () => {
  it('takes the span names out of a list of steps, each naming the steps up to the next', () => {
    const { steps, spans } = stepsAndSpans([
      { span: 'first' }, mount, hostname,
      { span: 'empty' }, // a stage that had no steps this time (--network host): no span
      { span: 'second' }, pivot,
    ]);
    expect(steps).toEqual([mount, hostname, pivot]);
    expect(spans).toEqual([{ name: 'first', first: 0, count: 2 }, { name: 'second', first: 2, count: 1 }]);
  });
});

describe('childSpans', () => {
  const { steps, spans } = stepsAndSpans([{ span: 'tsrun.child.mounts' }, mount, hostname, { span: 'tsrun.child.pivot_root' }, pivot, { span: 'tsrun.child.execve' }, execve]);
  const base = { steps, spans, cloneFlags: ['CLONE_NEWNS'] };
  // [clone, child began, step 0 … step 3 began, after a failed last step]
  const times = (...ns: number[]) => BigInt64Array.from([...ns, ...Array(7 - ns.length).fill(0)].map(BigInt));

  it('times clone, then each named run of steps from its first step to the next run; execve ends when tsrun hears of it', () => {
    expect(childSpans({ ...base, times: times(100, 150, 200, 210, 300, 350), reportedAt: 400n })).toEqual([
      { name: 'tsrun.child.clone', start: 100n, end: 150n, attributes: { 'tsrun.namespaces': ['CLONE_NEWNS'] }, failed: false },
      { name: 'tsrun.child.mounts', start: 200n, end: 300n, attributes: { 'tsrun.child.steps': ['change propagation of / (MS_REC|MS_PRIVATE)', 'sethostname box'] }, failed: false },
      { name: 'tsrun.child.pivot_root', start: 300n, end: 350n, attributes: { 'tsrun.child.steps': ['pivot_root . .'] }, failed: false },
      { name: 'tsrun.child.execve', start: 350n, end: 400n, attributes: { 'tsrun.child.steps': ['execve true [true] (through the sealed tsrun-exec)'] }, failed: false },
    ]);
  });

  it('ends a run at its failed step, with only the steps that began, and marks it failed; later runs never began', () => {
    // step 1 (sethostname) began at 210 and failed at 220: the child wrote 220 into the slot after it.
    expect(childSpans({ ...base, times: times(100, 150, 200, 210, 220), reportedAt: 500n, failedStep: 1 })).toEqual([
      { name: 'tsrun.child.clone', start: 100n, end: 150n, attributes: { 'tsrun.namespaces': ['CLONE_NEWNS'] }, failed: false },
      { name: 'tsrun.child.mounts', start: 200n, end: 220n, attributes: { 'tsrun.child.steps': ['change propagation of / (MS_REC|MS_PRIVATE)', 'sethostname box'] }, failed: true },
    ]);
  });

  it('ends a failed execve when tsrun hears of it: tsrun-exec, which reports it, cannot write the child\'s times', () => {
    expect(childSpans({ ...base, times: times(100, 150, 200, 210, 300, 350), reportedAt: 500n, failedStep: 3 }).at(-1))
      .toEqual({ name: 'tsrun.child.execve', start: 350n, end: 500n, attributes: { 'tsrun.child.steps': ['execve true [true] (through the sealed tsrun-exec)'] }, failed: true });
  });

  it('has nothing to show for a child that never began', () => {
    expect(childSpans({ ...base, times: times(100), reportedAt: 500n })).toEqual([]);
  });
});
