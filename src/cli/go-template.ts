// `--format '{{.State.Pid}}'`: the common cases of docker's Go templates —
// a path of fields, or `json` of one — over plain JSON data.
import { fail } from '../errors.js';

export function formatTemplate(template: string, data: unknown): string {
  // A "\n" typed into the template is a line break, as docker's CLI reads it; one in the values
  // (JSON's escape of a line break in a string) stays as it is: so the text is done first.
  return template.replace(/\\n/g, '\n').replace(/\{\{\s*(json\s+)?(\.[\w.]*)\s*\}\}/g, (_, json: string | undefined, fieldPath: string) => {
    let value: unknown = data;
    for (const field of fieldPath.split('.').filter(Boolean)) {
      // Own fields only: `in` would also find what every object inherits (constructor, __proto__, toString).
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, field)) {
        throw fail(`template: can't evaluate field ${field} in ${fieldPath}`, 'check the field names with `tsrun inspect` without --format');
      }
      value = (value as Record<string, unknown>)[field];
    }
    if (json) return JSON.stringify(value);
    return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}
