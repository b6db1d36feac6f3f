// tsrun inspect [-f FORMAT] NAME|ID...: containers and images as docker-shaped JSON.
import type { CommandModule } from 'yargs';

interface InspectArgs { root?: string; objects: string[]; format?: string }

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <objects..>',
  describe: 'Show containers or images as JSON, like docker inspect',
  builder: (yargs) => yargs
    .option('format', { alias: 'f', type: 'string', describe: 'Go-template-like output: {{.State.Pid}}, {{json .Config}}' })
    .positional('objects', { type: 'string', array: true, describe: 'Container or image names or ids' }) as never,
  handler: async (argv) => {
    const { runtimeFor } = await import('../runtime.js');
    const { inspect } = await import('../../containers/inspect.js');
    const runtime = runtimeFor(argv);
    const documents: object[] = [];
    for (const name of argv.objects) documents.push(await inspect(runtime, String(name)));
    if (argv.format === undefined) {
      process.stdout.write(JSON.stringify(documents, null, 4) + '\n');
      return;
    }
    const { formatTemplate } = await import('../go-template.js');
    for (const document of documents) process.stdout.write(formatTemplate(argv.format, document) + '\n');
  },
};
