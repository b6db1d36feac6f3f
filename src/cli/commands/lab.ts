// tsrun lab list|start|check|reset N: exercises that break one stage on purpose, checked from outside.
import type { CommandModule } from 'yargs';

interface LabArgs { action: string; lab?: string; dir?: string }

export const labCommand: CommandModule<object, LabArgs> = {
  command: 'lab <action> [lab]',
  describe: 'Labs: list, start N (a working copy with one stage broken), check N, reset N',
  builder: (yargs) => yargs
    .positional('action', { choices: ['list', 'start', 'check', 'reset'] as const, describe: 'What to do' })
    .positional('lab', { type: 'string', describe: 'Lab number or name' })
    .option('dir', { type: 'string', describe: 'The working copy (default ~/tsrun-labs/NN-name)' }) as never,
  handler: async (argv) => {
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
