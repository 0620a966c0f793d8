// Runs every ```js example of the package README (../npm/README.md) as a program, from
// this folder so that `@ode/engine` resolves to the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const readme = readFileSync(join(here, '..', 'npm', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const dir = join(here, '.readme');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);

test('the README has examples', () => {
  assert.ok(blocks.length >= 5, `${blocks.length} examples`);
});

blocks.forEach((code, i) => {
  const first = code.split('\n').find((l) => l.startsWith('import {'))?.trim() ?? '';
  test(`README example ${i + 1}: ${first}`, () => {
    const file = join(dir, `example-${i + 1}.mjs`);
    writeFileSync(file, code);
    // Throws (failing the test) on a non-zero exit, with the example's stderr.
    execFileSync(process.execPath, [file], { cwd: here, stdio: ['ignore', 'pipe', 'pipe'] });
  });
});
