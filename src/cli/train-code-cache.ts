// Run by `npm run build` after scripts/bundle.mjs: makes the code caches that load-bundle.ts gives V8.
//
// V8 compiles a function the first time it runs, and a code cache holds what had been compiled when it
// was taken. So the caches are taken after running what tsrun runs most: a container, with --trace (so
// that the SDK's bundle gets its cache too), exporting over OTLP (the exporters' bundle, whose protobuf writer is costly to
// compile on every run sent to Jaeger) and with --explain; and
// `ps`, a command parsed by yargs. The OTLP run sends to a receiver on 127.0.0.1 that this file starts.
// The runs need root and the native module, and a store with the demo image, which is made here in a
// directory of its own and removed after. If a command fails (not root, say), the caches cover less:
// tsrun starts more slowly, and works the same.
//
// The commands run in a second process of this file's, whose stderr (tsrun's words) is shown only if one fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, saveCodeCaches } from './load-bundle.js';

const TRAIN = '--run-and-save';
const bundleDir = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(bundleDir, '..', '..', 'bin', 'tsrun.js');

/** A command to train with; `otlp`: with OTEL_TRACES_EXPORTER=otlp, sending to the receiver runAndSave starts. */
interface Training {
  args: string[];
  otlp?: boolean;
}

const TRAIN_OCI = '--run-oci-and-save';
const ociBin = path.join(bundleDir, '..', '..', 'bin', 'tsrun-oci.js');

if (process.argv[2] === TRAIN) {
  runAndSave(JSON.parse(process.argv[3]!) as Training[]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else if (process.argv[2] === TRAIN_OCI) {
  runOciAndSave(JSON.parse(process.argv[3]!) as string[][]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  train();
}

function train(): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  const env = { ...process.env, TSRUN_ROOT: path.join(work, 'store') };
  const commands: Training[] = [
    { args: ['run', '--rm', '--network', 'none', `--trace=${path.join(work, 'traces')}`, 'tsrun-demo', 'true'] },
    { args: ['run', '--rm', '--network', 'none', 'tsrun-demo', 'true'], otlp: true },
    { args: ['run', '--rm', '--network', 'none', '--explain', 'tsrun-demo', 'true'] },
    { args: ['ps', '-a'] },
  ];
  try {
    for (const args of [['make-demo-image', path.join(work, 'image')], ['load', '-i', path.join(work, 'image')]]) {
      spawnSync(process.execPath, [bin, ...args], { env, stdio: 'ignore', timeout: 60_000 });
    }
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), TRAIN, JSON.stringify(commands)], { env, encoding: 'utf8', timeout: 60_000 });
    const said = run.stdout.trim().split('\n');
    const shown = ({ args, otlp }: Training) => `${otlp ? 'OTEL_TRACES_EXPORTER=otlp ' : ''}tsrun ${args.join(' ')}`;
    console.log(`${said.at(-1)} made by running: ${commands.map(shown).join('; ')}`);
    if (run.status !== 0) console.log(`  a command failed, so the caches cover less of tsrun:\n  ${run.stderr.trim().replace(/\n/g, '\n  ')}`);
    trainOci(work, env);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Run tsrun's CLI in this process once for each of `commands`, then save the caches of the bundles it loaded.
 *  The exit status is 1 if a command failed. */
async function runAndSave(commands: Training[]): Promise<void> {
  const { main } = loadBundle(path.join(bundleDir, 'tsrun.cjs')) as { main(): Promise<void> };
  // A collector's stand-in, in this process: main() is awaited, so the event loop serves the export.
  const receiver = http.createServer((request, response) => { request.resume(); request.on('end', () => response.end()); });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  let failed = false;
  for (const { args, otlp } of commands) {
    process.argv = [process.argv[0]!, bin, ...args];
    const otlpEnv = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`,
    };
    await withEnv(otlp ? otlpEnv : {}, main);
    failed ||= Number(process.exitCode ?? 0) !== 0;
    process.exitCode = 0;
  }
  receiver.close();
  console.log(`code caches ${saveCodeCaches().map((file) => path.basename(file)).join(', ')}`);
  process.exitCode = failed ? 1 : 0;
}

/** tsrun-oci's bundle, trained by the three commands a shim runs for every container (through `run`) on a bundle of
 *  the demo image's files, and by `state`. Its cache alone is saved: the shared bundles keep the CLI's. */
function trainOci(work: string, env: NodeJS.ProcessEnv): void {
  const bundle = path.join(work, 'oci-bundle');
  const layers = path.join(work, 'store', 'layers', 'sha256');
  const layer = fs.existsSync(layers) ? fs.readdirSync(layers)[0] : undefined;
  if (!layer) return;
  fs.mkdirSync(bundle);
  fs.cpSync(path.join(layers, layer), path.join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  spawnSync(process.execPath, [ociBin, 'spec', '--bundle', bundle], { stdio: 'ignore' });
  const config = path.join(bundle, 'config.json');
  const spec = JSON.parse(fs.readFileSync(config, 'utf8')) as { process: { args: string[] }; linux: { cgroupsPath?: string } };
  spec.process.args = ['true'];
  spec.linux.cgroupsPath = '/tsrun-code-cache/oci';
  fs.writeFileSync(config, JSON.stringify(spec));
  const root = path.join(work, 'oci-state');
  const commands = [['--root', root, 'run', '--bundle', bundle, 'training'], ['--root', root, 'state', 'training']];
  const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), TRAIN_OCI, JSON.stringify(commands)], { env, encoding: 'utf8', timeout: 60_000 });
  console.log(`${run.stdout.trim().split('\n').at(-1)} made by running: ${commands.map((args) => `tsrun-oci ${args.slice(2).join(' ')}`).join('; ')}`);
}

async function runOciAndSave(commands: string[][]): Promise<void> {
  const file = path.join(bundleDir, 'tsrun-oci.cjs');
  const { main } = loadBundle(file) as { main(argv: string[]): Promise<void> };
  for (const argv of commands) await main(argv);
  process.exitCode = 0;
  console.log(`code cache ${saveCodeCaches((loaded) => loaded === file).map((saved) => path.basename(saved)).join(', ')}`);
}

/** Run `work` with `vars` set in the environment, then put back what was there. */
async function withEnv(vars: Record<string, string>, work: () => Promise<void>): Promise<void> {
  const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    await work();
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
