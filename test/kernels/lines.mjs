// The kernel lines of the matrix and how each is fetched: Debian's unsigned kernel packages,
// downloaded with apt-get through a private sources list and private state (lists, cache) under
// the cache directory, so the system's apt state is never read for packages nor changed.
// Each line takes the newest build its suite serves (older builds leave the mirror), and the
// exact release is reported in every test name.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The Debian suites the kernels come from (each with its security suite, where fixes land). */
const SUITES = {
  bullseye: [
    ['http://deb.debian.org/debian', 'bullseye bullseye-updates'],
    ['http://deb.debian.org/debian-security', 'bullseye-security'],
  ],
  bookworm: [
    ['http://deb.debian.org/debian', 'bookworm bookworm-updates'],
    ['http://deb.debian.org/debian-security', 'bookworm-security'],
  ],
};

/**
 * The lines: name, suite, and the package-name pattern whose highest match is taken.
 * Who runs them: Debian 11 (5.10); Debian 12, Amazon Linux 2023 (6.1); Debian 13 (6.12).
 */
export const LINES = [
  { line: '5.10', suite: 'bullseye', pkg: /^linux-image-5\.10\.0-(\d+)-amd64-unsigned$/ },
  { line: '6.1', suite: 'bookworm', pkg: /^linux-image-6\.1\.0-(\d+)-amd64-unsigned$/ },
  { line: '6.12', suite: 'bookworm', pkg: /^linux-image-6\.12\.(\d+)\+deb12-amd64-unsigned$/ },
];

/** apt-get/apt-cache with only the private sources list and state of one suite. */
function apt(cache, suite, tool, args, opts = {}) {
  const dir = join(cache, 'apt', suite);
  const list = join(dir, 'sources.list');
  if (!existsSync(list)) {
    for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(
      list,
      SUITES[suite].map(([uri, suites]) => `deb [signed-by=${KEYRING}] ${uri} ${suites} main\n`).join(''),
    );
  }
  const o = [
    `Dir::Etc::sourcelist=${list}`,
    'Dir::Etc::sourceparts=-',
    'Dir::Etc::preferences=/dev/null',
    'Dir::Etc::preferencesparts=-',
    `Dir::State::Lists=${join(dir, 'lists')}`,
    `Dir::Cache=${join(dir, 'cache')}`,
    // The system's docker-clean setting turns these caches off; apt-cache needs one here.
    `Dir::Cache::pkgcache=${join(dir, 'cache', 'pkgcache.bin')}`,
    `Dir::Cache::srcpkgcache=${join(dir, 'cache', 'srcpkgcache.bin')}`,
    'APT::Get::List-Cleanup=0',
  ].flatMap((x) => ['-o', x]);
  return execFileSync(tool, [...o, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    ...opts,
  });
}

/** Refresh a suite's package lists at most once a day (they name the newest kernel build). */
function update(cache, suite, log) {
  const stamp = join(cache, 'apt', suite, 'updated');
  const fresh = existsSync(stamp) && Date.now() - Number(readFileSync(stamp, 'utf8')) < 86400e3;
  if (fresh) return;
  log(`apt-get update (${suite}, private lists under ${join(cache, 'apt', suite)})`);
  apt(cache, suite, 'apt-get', ['-qq', 'update']);
  writeFileSync(stamp, String(Date.now()));
}

/** The newest package of a line its suite serves. */
function newestPackage(cache, l) {
  const names = apt(cache, l.suite, 'apt-cache', ['pkgnames', 'linux-image-'])
    .split('\n')
    .map((n) => [n, l.pkg.exec(n)])
    .filter(([, m]) => m)
    .sort((a, b) => Number(b[1][1]) - Number(a[1][1]));
  if (names.length === 0) throw new Error(`no package matching ${l.pkg} in ${l.suite}`);
  return names[0][0];
}

/**
 * Fetch (or reuse) one line's kernel: the package extracted under CACHE/kernels/PKG, with
 * vmlinuz, modules and the release string. Without network, a line fetched before is reused.
 * Returns { line, pkg, release, root, vmlinuz, modules }.
 */
export function fetchLine(cache, l, log = () => {}) {
  let pkg;
  try {
    update(cache, l.suite, log);
    pkg = newestPackage(cache, l);
  } catch (e) {
    // Offline: the newest build fetched earlier.
    const have = existsSync(join(cache, 'kernels'))
      ? readdirSync(join(cache, 'kernels')).filter(
          (n) => l.pkg.test(n) && existsSync(join(cache, 'kernels', n, '.done')),
        )
      : [];
    have.sort((a, b) => Number(l.pkg.exec(b)[1]) - Number(l.pkg.exec(a)[1]));
    if (!have[0]) throw new Error(`cannot fetch the ${l.line} kernel: ${String(e.stderr || e.message).trim()}`);
    log(`${l.line}: cannot refresh the package list (${String(e.message).split('\n')[0]}); using ${have[0]}`);
    pkg = have[0];
  }
  const root = join(cache, 'kernels', pkg);
  if (!existsSync(join(root, '.done'))) {
    const debs = join(cache, 'debs');
    mkdirSync(debs, { recursive: true });
    log(`${l.line}: apt-get download ${pkg}`);
    apt(cache, l.suite, 'apt-get', ['-qq', 'download', pkg], { cwd: debs });
    const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${debs}`);
    const tmp = `${root}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(debs, deb), tmp]);
    rmSync(join(debs, deb));
    writeFileSync(join(tmp, '.done'), `${deb}\n`);
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
    // The line's older builds are not used again (one build per line stays in the cache).
    for (const old of readdirSync(join(cache, 'kernels')))
      if (old !== pkg && l.pkg.test(old)) rmSync(join(cache, 'kernels', old), { recursive: true, force: true });
  }
  const boot = readdirSync(join(root, 'boot'));
  const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`${pkg}: no boot/vmlinuz-*`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const modules = [join(root, 'lib/modules', release), join(root, 'usr/lib/modules', release)].find((d) =>
    existsSync(d),
  );
  if (!modules) throw new Error(`${pkg}: no modules directory for ${release}`);
  return { line: l.line, pkg, release, root, vmlinuz: join(root, 'boot', vmlinuz), modules };
}
