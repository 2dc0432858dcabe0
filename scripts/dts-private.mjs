// Run by `npm run build:ts` after tsc: rewrite the `#private;` line tsc emits into the .d.ts of
// every class with `#` fields as `private "#private";`. A consumer whose TypeScript targets ES5
// (tsc's default: `tsc --strict file.ts` with no tsconfig) reports TS18028 ("Private
// identifiers are only available when targeting ECMAScript 2015 and higher") inside our .d.ts
// for the former (microsoft/TypeScript#60437, open). The latter means the same to the type
// checker: a member nobody can name, which keeps the class nominal. The runtime keeps its `#`
// fields. scripts/test-consumers.mjs compiles a consumer that way.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
for (const rel of readdirSync(dist, { recursive: true })) {
  if (!rel.endsWith('.d.ts')) continue;
  const file = join(dist, rel);
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/^(\s+)#private;$/gm, '$1private "#private";');
  if (fixed !== text) writeFileSync(file, fixed);
}
