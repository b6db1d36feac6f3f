// The example traces in traces/examples/ still have the shape of a real run
// today: the same span names, nested the same way (timings and ids differ).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOtlpLines, spanTreeLines, spansOf } from '../../src/trace/otlp-json.js';
import { REPO_ROOT } from '../../src/teach/regions.js';
import { storeWithDemoImage, tsrun } from '../helpers/cli.js';

const asRoot = process.getuid?.() === 0;
const EXAMPLES = path.join(REPO_ROOT, 'traces', 'examples');
const treeOf = (otlpFile: string) => spanTreeLines(spansOf(parseOtlpLines(fs.readFileSync(otlpFile, 'utf8'))).map((s) => s.span));

describe.skipIf(!asRoot)('example traces (as root)', () => {
  let root: string;
  beforeAll(async () => {
    root = await storeWithDemoImage('examples');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  // The same commands as scripts/example-traces.sh.
  const examples: Array<[string, string[]]> = [
    ['demo-run', ['tsrun-demo', 'sh', '-c', 'echo hello from the demo']],
    ['command-not-found', ['tsrun-demo', 'no-such-command']],
  ];
  for (const [name, command] of examples) {
    it(`${name}: a fresh run has the example's span tree (regenerate with scripts/example-traces.sh)`, () => {
      const fresh = path.join(root, `${name}.json`);
      tsrun(root, ['run', '--rm', 'tsrun-demo', 'true']); // the bridge exists, as in the examples (its first use adds spans)
      tsrun(root, ['run', '--rm', `--trace=${fresh}`, ...command]);
      const example = treeOf(path.join(EXAMPLES, `${name}.otlp.jsonl`));
      expect(example[0]).toMatch(/^tsrun run/);
      expect(treeOf(fresh.replace(/\.json$/, '.otlp.jsonl'))).toEqual(example);
      expect(fs.existsSync(path.join(EXAMPLES, `${name}.jaeger.json`))).toBe(true);
    });
  }
});

describe('tsrun trace show and ls on the example traces', () => {
  it('draws each example as plain text when the output is a pipe: its span tree, in order', () => {
    for (const file of ['demo-run.otlp.jsonl', 'command-not-found.jaeger.json']) {
      const result = tsrun(EXAMPLES, ['trace', 'show', path.join(EXAMPLES, file)]);
      expect(result.status).toBe(0);
      expect(result.stdout).not.toContain('\u001b[');
      const names = result.stdout.split('\n').slice(2).filter(Boolean).map((row) => /^[│├└─ ]*(.+?) +│/.exec(row)![1]!);
      expect(names).toEqual(treeOf(path.join(EXAMPLES, file.replace(/\.jaeger\.json$/, '.otlp.jsonl'))).map((line) => line.replace(' (error)', '').trim()));
    }
    expect(tsrun(EXAMPLES, ['trace', 'show', path.join(EXAMPLES, 'command-not-found.otlp.jsonl')]).stdout).toMatch(/tsrun\.exec .*ERROR exec: "no-such-command"/);
  });

  it('lists the examples, each once', () => {
    const result = tsrun(EXAMPLES, ['trace', 'ls', EXAMPLES]);
    expect(result.status).toBe(0);
    const rows = result.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^FILE +STARTED +ROOT SPAN +DURATION +SPANS +STATUS$/);
    expect(rows.slice(1).map((row) => path.basename(row.split(' ')[0]!)).sort()).toEqual(['command-not-found.otlp.jsonl', 'demo-run.otlp.jsonl']);
    expect(rows.find((row) => row.includes('command-not-found'))).toMatch(/tsrun run .* error: exec: "no-such-command"/);
  });
});
