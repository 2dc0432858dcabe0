// Prometheus' text exposition format (version 0.0.4): metric names, escaping, and families
// whose samples are appended as text. Every scrape builds its families afresh (as the exporter
// guide asks: no state carried from one scrape to the next but what is cheap to reuse).

/** The Content-Type of /metrics. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A metric name from arbitrary text: every character outside [a-zA-Z0-9_] becomes '_' (colons are the user's, for recording rules). */
export function metricName(text: string): string {
  const s = text.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A label value as the text format writes it between double quotes: `\`, `"` and newline escaped, every other character as it is. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A HELP text: `\` and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** `a="x",b="y"` from label pairs (names are the exporter's own, already valid). */
export function labelPairs(labels: readonly (readonly [string, string])[]): string {
  let out = '';
  for (const [name, value] of labels) out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  return out;
}

export type MetricType = 'gauge' | 'counter' | 'untyped';

/** One metric family: its HELP and TYPE, and its sample lines appended as text. */
export class Family {
  /** Sample lines, each ending in a newline. */
  body = '';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType = 'gauge',
  ) {}

  /** Append `name{labels} value`. */
  sample(labels: string, value: string | number): void {
    this.body += labels === '' ? `${this.name} ${value}\n` : `${this.name}{${labels}} ${value}\n`;
  }

  /** The family as text, or '' when it has no sample. */
  text(): string {
    return this.body === ''
      ? ''
      : `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n${this.body}`;
  }
}

/** A sample value as the text format writes it (NaN and the infinities by name). */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}
