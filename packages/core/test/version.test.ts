import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { version } from '../src/index';

it('version is the one in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(version).toBe(pkg.version);
});
