// rawValue (setMany({ raw: true })): values passed as sysctl(8) passes them. Pure.
import t from 'tap';
import { rawValue, formatValue } from '../../lib/sysctl/values.js';

t.test('raw values: what the catalogue refuses passes; control characters do not', async (t) => {
  t.throws(() => formatValue('2000', 'net.ipv4.ip_local_port_range'), 'the typed path wants two numbers');
  t.equal(rawValue('2000', 'net.ipv4.ip_local_port_range'), '2000');
  t.equal(rawValue('5 pages', 'net.core.somaxconn'), '5 pages');
  t.equal(rawValue('0x20', 'net.core.somaxconn'), '0x20');
  t.equal(rawValue('1024\t65000'), '1024\t65000', 'a tab is a separator, not a control character here');
  t.equal(rawValue(''), '');
  for (const bad of ['1\n2', 'a\u0000', '\r', '\u001b[0m'])
    t.throws(() => rawValue(bad), RangeError, JSON.stringify(bad));
  t.throws(() => rawValue(5), TypeError, 'strings only');
  t.throws(() => rawValue('x'.repeat(5000)), RangeError, 'over-long');
});
