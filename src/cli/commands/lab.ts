// tsrun lab list|start|check|reset N: exercises that break one stage on purpose, checked from outside.
// tsrun lab registry start|stop|status: the classroom's own registry, on loopback, seeded with demo images.
import fs from 'node:fs';
import type { CommandModule } from 'yargs';

interface LabArgs { root?: string; action: string; lab?: string; dir?: string; port?: number }

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab <action> [lab]',
  describe: 'Labs: list, start N (a working copy with one stage broken), check N, reset N; registry start|stop|status',
  builder: (yargs) => yargs
    .positional('action', { choices: ['list', 'start', 'check', 'reset', 'registry'] as const, describe: 'What to do' })
    .positional('lab', { type: 'string', describe: 'Lab number or name; after "registry": start, stop or status' })
    .option('dir', { type: 'string', describe: 'The working copy (default ~/tsrun-labs/NN-name)' })
    .option('port', { type: 'number', describe: 'lab registry start: the loopback port to listen on (default 5000)' })
    .option('force', { type: 'boolean', default: false, describe: 'lab start: replace a working copy that is already there' }) as never,
  handler: async (argv) => {
    if (argv.action === 'registry') return classroomRegistry(argv);
    const { LABS, findLab } = await import('../../teach/labs.js');
    const { prepareLab, checkLab, defaultLabDir } = await import('../../teach/lab-workspace.js');
    const { fail } = await import('../../errors.js');
    if (argv.action === 'list') {
      for (const lab of LABS) process.stdout.write(`  ${String(lab.id).padStart(2)}  ${lab.name.padEnd(12)} ${lab.stage.padEnd(11)} ${lab.title}\n`);
      process.stdout.write('\nStart one with: tsrun lab start N\n');
      return;
    }
    if (!argv.lab) throw fail(`tsrun lab ${argv.action} needs a lab`, 'see `tsrun lab list`');
    const lab = findLab(argv.lab);
    const dir = argv.dir ?? defaultLabDir(lab);
    if (argv.action === 'start' || argv.action === 'reset') {
      // A student's work lives there: only `reset` (or --force) throws it away.
      if (argv.action === 'start' && !argv.force && fs.existsSync(dir)) {
        throw fail(`lab ${lab.id} already has a working copy in ${dir}, perhaps with your changes in it`,
          `check it with \`tsrun lab check ${lab.id}\`, or start over with \`tsrun lab reset ${lab.id}\` (or lab start --force)`);
      }
      const file = prepareLab(lab, dir);
      process.stdout.write(`Lab ${lab.id}: ${lab.title}\n\n${lab.task}\n\nYour working copy: ${dir}\nEdit ${file} (look for TODO(lab ${lab.id})),\nthen run: tsrun lab check ${lab.id}${argv.dir ? ` --dir ${dir}` : ''}\n`);
      return;
    }
    const results = await checkLab(lab, dir);
    for (const result of results) {
      process.stdout.write(result.passed ? `  ✓ ${result.name}\n` : `  ✗ ${result.name}\n      ${result.detail}\n      hint: ${result.hint}\n`);
    }
    const passed = results.filter((r) => r.passed).length;
    process.stdout.write(`\n${passed} of ${results.length} checks pass${passed === results.length ? ' — lab done!' : ''}\n`);
    if (passed < results.length) process.exitCode = 1;
  },
};

async function classroomRegistry(argv: LabArgs): Promise<void> {
  const { fail } = await import('../../errors.js');
  const { runtimeFor } = await import('../runtime.js');
  const registry = await import('../../teach/classroom-registry.js');
  const runtime = runtimeFor(argv);
  const write = (line: string) => void process.stdout.write(line + '\n');
  if (argv.lab === 'start') {
    if (argv.port !== undefined && !(Number.isInteger(argv.port) && argv.port > 0 && argv.port < 65536)) {
      throw fail(`invalid port: ${argv.port}`, 'give a port number between 1 and 65535');
    }
    const { address } = await registry.startClassroomRegistry(runtime, { port: argv.port, say: write });
    write(`\nTry: tsrun run --rm ${address}/tsrun-demo echo hello from the registry`);
    write('Stop it with: tsrun lab registry stop');
    return;
  }
  if (argv.lab === 'stop') {
    const stopped = await registry.stopClassroomRegistry(runtime.paths);
    write(stopped ? `Stopped the classroom registry at ${stopped.address}.` : 'The classroom registry was not running.');
    return;
  }
  if (argv.lab === 'status') {
    const status = await registry.classroomRegistryStatus(runtime.paths);
    if (!status.running) {
      write(`The classroom registry is not running (its data is in ${status.dataDir}). Start it with: tsrun lab registry start`);
      process.exitCode = 1;
      return;
    }
    write(`The classroom registry is running at ${status.running.address} (pid ${status.running.pid}); its data is in ${status.dataDir}.`);
    for (const image of status.images) write(`  ${status.running.address}/${image}`);
    return;
  }
  throw fail(`tsrun lab registry needs start, stop or status${argv.lab ? `, not "${argv.lab}"` : ''}`, 'e.g. tsrun lab registry start');
}
