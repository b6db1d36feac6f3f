// tsrun's version, as package.json gives it. Read when asked (`tsrun --version`), not at every start.
// From src/ and from the bundles in dist/bundle/ alike, package.json is two directories up.
import fs from 'node:fs';

export function tsrunVersion(): string {
  const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return version;
}
