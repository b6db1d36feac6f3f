// tsrun lesson [NAME]: the lessons, in the terminal.
import type { CommandModule } from 'yargs';

interface LessonArgs { name?: string }

export const lessonCommand: CommandModule<object, LessonArgs> = {
  command: 'lesson [name]',
  describe: 'List the lessons, or read one (e.g. tsrun lesson namespaces)',
  builder: (yargs) => yargs.positional('name', { type: 'string', describe: 'Lesson name or number' }) as never,
  handler: async (argv) => {
    const { lessonList, findLesson, renderLesson } = await import('../../teach/terminal-lesson.js');
    if (!argv.name) {
      process.stdout.write(lessonList());
      return;
    }
    process.stdout.write(renderLesson(findLesson(argv.name), Boolean(process.stdout.isTTY) && !process.env.NO_COLOR));
  },
};
