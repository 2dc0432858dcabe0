// sysctl.d(5) files as procps-ng reads them: a pure parser, and the key forms globs match on.

export interface ConfLine {
  /** The key as written, without the '-' prefix. */
  key: string;
  /** undefined: a '-KEY' exclusion line. */
  value: string | undefined;
  /** A leading '-': a failure on this key is ignored. */
  optional: boolean;
  /** FILE:LINE */
  where: string;
}

export interface InvalidLine {
  where: string;
  line: string;
}

/** Parse one sysctl.d(5) file the way procps-ng does (comments # and ;, '-' prefix, trimming). */
export function parseConf(text: string, file: string, invalid: InvalidLine[]): ConfLine[] {
  const lines: ConfLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/^\s+/, '').replace(/\s+$/, '');
    if (line.length < 2 || line.startsWith('#') || line.startsWith(';')) {
      if (line.length === 1 && line !== '#' && line !== ';') invalid.push({ where, line });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (line.startsWith('-')) lines.push({ key: line.slice(1).trim(), value: undefined, optional: true, where });
      else invalid.push({ where, line });
      return;
    }
    let key = line.slice(0, eq).trim();
    const optional = key.startsWith('-');
    if (optional) key = key.slice(1).trim();
    if (key === '') {
      invalid.push({ where, line });
      return;
    }
    lines.push({ key, value: line.slice(eq + 1).trim(), optional, where });
  });
  return lines;
}

/** First component of a key in sysctl(8) syntax (the first separator decides the form). */
export function topLevel(key: string): string {
  const m = /^[^./]*/.exec(key);
  return m ? m[0] : key;
}

/** The path form of a key, for glob matching (dots and slashes swapped as sysctl(8) does). */
export function pathForm(key: string): string {
  const dot = key.indexOf('.');
  const slash = key.indexOf('/');
  if (slash === -1 || (dot !== -1 && dot < slash)) return key.split('.').map((c) => c.replaceAll('/', '.')).join('/');
  return key;
}

/** A glob(7) pattern on path components ('*' and '?' do not cross '/'), as a RegExp. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether a key holds glob characters. */
export function isGlob(key: string): boolean {
  return /[*?[]/.test(key);
}
