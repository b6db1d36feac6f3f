// One order everywhere: lesson N is stage N. After the introduction, the first
// six lessons are the six stages of `tsrun run`, in the order a run takes them
// (STAGES), so `--explain`'s "2/6 create" points at lesson 2, the site's
// navigation walks the stages in order, and a reorder of either side fails here.
// A lesson says which stage it is by its file name: 02-create.mdx is `create`.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLessons } from '../../../src/teach/lessons.js';
import { NARRATION } from '../../../src/teach/narration.js';
import { STAGES } from '../../../src/container.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const lessons = listLessons(path.join(REPO, 'lessons'));
const files = lessons.map((lesson) => path.basename(lesson.file));

describe('the lessons follow the order of a run', () => {
  it('lessons 1 to 6 are the six stages, in STAGES order', () => {
    expect(lessons[0]?.name, 'lesson 0 is the introduction').toBe('introduction');
    const stageLessons = lessons.slice(1, 1 + STAGES.length);
    expect(stageLessons.map((lesson) => lesson.name), `the first lessons after the introduction (${files.join(', ')})`)
      .toEqual([...STAGES]);
    expect(stageLessons.map((lesson) => lesson.order), 'lesson N is stage N').toEqual(STAGES.map((_, i) => i + 1));
  });

  it('each stage\'s --explain narration points at the lesson of the same number', () => {
    for (const [i, stage] of STAGES.entries()) {
      const lesson = lessons.find((l) => l.name === NARRATION[stage].lesson);
      expect(lesson, `NARRATION.${stage}.lesson = "${NARRATION[stage].lesson}" names no lesson`).toBeDefined();
      expect(lesson!.order, `--explain says ${i + 1}/${STAGES.length} ${stage}, and points at ${path.basename(lesson!.file)}`).toBe(i + 1);
    }
  });

  it('every title says the lesson\'s own number ("# Lesson 5: namespaces …" is 05-namespaces.mdx)', () => {
    const wrong = lessons
      .filter((lesson) => Number(/^Lesson (\d+)\b/.exec(lesson.title)?.[1]) !== lesson.order)
      .map((lesson) => `${path.basename(lesson.file)}: "# ${lesson.title}"`);
    expect(wrong, 'titles that do not start with "Lesson N" for their file number N').toEqual([]);
  });
});
