// The exporter's own process, under the names every Prometheus client library uses
// (process_cpu_seconds_total, process_open_fds, ...): with one fd per key per namespace held,
// process_open_fds against process_max_fds is worth an alert.
import * as fs from 'node:fs';
import { Family } from './exposition.js';

const startTime = Math.round((Date.now() / 1000 - process.uptime()) * 1000) / 1000;

/** The process_* families as text. */
export function processMetrics(): string {
  const out: Family[] = [];
  const cpu = process.cpuUsage();
  const f = (name: string, help: string, value: number, type: 'gauge' | 'counter' = 'gauge'): void => {
    const fam = new Family(name, help, type);
    fam.sample('', value);
    out.push(fam);
  };
  f(
    'process_cpu_seconds_total',
    'Total user and system CPU time spent in seconds.',
    (cpu.user + cpu.system) / 1e6,
    'counter',
  );
  f('process_resident_memory_bytes', 'Resident memory size in bytes.', process.memoryUsage.rss());
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    f('process_virtual_memory_bytes', 'Virtual memory size in bytes.', Number(fields[20]));
  } catch {
    /* no /proc/self/stat */
  }
  f('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', startTime);
  try {
    f('process_open_fds', 'Number of open file descriptors.', fs.readdirSync('/proc/self/fd').length - 1);
    const limits = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (limits) f('process_max_fds', 'Maximum number of open file descriptors.', Number(limits[1]));
  } catch {
    /* no /proc/self */
  }
  return out.map((x) => x.text()).join('');
}
