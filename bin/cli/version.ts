// The package version, for --version.
import { createRequire } from 'node:module';

export const VERSION: string = (() => {
  try {
    return (createRequire(import.meta.url)('netns/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
