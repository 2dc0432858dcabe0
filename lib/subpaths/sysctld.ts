// 'netns/sysctld': the sysctl.d(5) parser procps-ng's sysctl(8) uses (lines, files, key forms,
// globs, the --system order), shared by `netns sysctl -p/--system` and auditHost's `expect`.
export {
  parseConf,
  parseSettingLine,
  topLevel,
  isNetKey,
  isTraversal,
  pathForm,
  globRegExp,
  isGlob,
  compilePattern,
  expectationsFrom,
  expectationsOf,
  expectationFor,
  expandSettings,
  systemFiles,
  SYSTEM_DIRS,
  DEFAULT_CONF,
  type Setting,
  type LineResult,
  type InvalidLine,
  type Expectation,
  type Expectations,
} from '../sysctl/sysctld.js';
// Key forms: a path under /proc/sys/net back to the dotted key, and the interface a key names.
export { keyFromRel, deviceOf } from '../keypath.js';
