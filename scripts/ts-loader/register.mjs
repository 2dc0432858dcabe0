// node --import=./scripts/ts-loader/register.mjs FILE.ts: runs the project's TypeScript (tests,
// lib, examples) as tap's ts-node loader did, transpile-only (types are checked by `npm run
// check`), with each file's output cached on disk by its content: a test process then loads
// TypeScript's compiler only for files that changed since the last run. ts-node transpiled
// every file of lib/ again in each of the ~70 test processes of a run (1-2 s a process, about
// 2 minutes of each Node line in CI).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
