// The sysctl.d(5) parser is the library's (lib/sysctl/sysctld.ts, exported as `sysctld`): the
// CLI's commands import its parts from here.
import { sysctld } from 'netns';

export type Setting = sysctld.Setting;
export type InvalidLine = sysctld.InvalidLine;
export const { parseSettingLine, parseConf, topLevel, isNetKey, isTraversal, pathForm, globRegExp, isGlob, SYSTEM_DIRS, DEFAULT_CONF, systemFiles, compilePattern } = sysctld;
