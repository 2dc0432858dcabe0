// The sysctl.d(5) parser is the library's (lib/sysctl/sysctld.ts, exported as 'netns/sysctld'):
// the CLI's commands import its parts from here.
export * from 'netns/sysctld';
