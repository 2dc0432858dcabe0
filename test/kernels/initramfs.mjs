// The boot files of one kernel, built once and cached: the uncompressed kernel (vmlinux: qemu
// starts it through its PVH entry, saving the decompression under TCG) and a small initramfs
// (static busybox, /init, and the modules the guest needs, decompressed, in load order).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Modules the guest loads, in this order (each after its dependencies): what it needs to reach
 * the shared root (virtio PCI, 9p over virtio, overlayfs for the writable layer), then what a
 * container host typically has loaded (bridge, br_netfilter, nf_conntrack, veth; overlay above).
 */
export const MODULES = [
  'virtio_pci',
  '9pnet_virtio',
  '9p',
  'overlay',
  'bridge',
  'br_netfilter',
  'nf_conntrack',
  'veth',
];

/** Where a compressed kernel's payload starts, by magic: xz, zstd, gzip (as scripts/extract-vmlinux). */
const MAGICS = [
  [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'zstd'],
  [Buffer.from([0x1f, 0x8b, 0x08]), 'gzip'],
];

/** vmlinux from a bzImage: the first payload that decompresses to an ELF file. */
function extractVmlinux(vmlinuz, out) {
  const img = readFileSync(vmlinuz);
  for (const [magic, tool] of MAGICS) {
    for (let at = img.indexOf(magic); at >= 0; at = img.indexOf(magic, at + 1)) {
      let elf;
      try {
        elf = execFileSync(tool, ['-dc'], {
          input: img.subarray(at),
          maxBuffer: 1 << 30,
          stdio: ['pipe', 'pipe', 'ignore'],
        });
      } catch (e) {
        elf = e.stdout; // trailing data after the stream makes the tool complain; the output is whole
      }
      if (elf && elf.length > 1 << 20 && elf.readUInt32BE(0) === 0x7f454c46) {
        writeFileSync(out, elf);
        return;
      }
    }
  }
  throw new Error(`${vmlinuz}: no xz, zstd or gzip payload decompresses to an ELF kernel`);
}

/** A module's file contents, decompressed. */
function moduleBytes(path) {
  if (path.endsWith('.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 28 });
  if (path.endsWith('.zst')) return execFileSync('zstd', ['-dc', path], { maxBuffer: 1 << 28 });
  if (path.endsWith('.gz')) return execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 28 });
  return readFileSync(path);
}

/** Every module file under DIR/kernel, by module name ('-' read as '_', as the kernel does). */
function moduleIndex(dir) {
  const index = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const m = /^(.+)\.ko(\.xz|\.zst|\.gz)?$/.exec(e.name);
        if (m) index.set(m[1].replaceAll('-', '_'), p);
      }
    }
  };
  walk(join(dir, 'kernel'));
  return index;
}

/** One entry of a module's .modinfo section ("depends", "softdep"), or ''. */
function modinfo(bytes, field) {
  const at = bytes.indexOf(`\0${field}=`);
  if (at < 0) return '';
  return bytes.subarray(at + field.length + 2, bytes.indexOf(0, at + 1)).toString('latin1');
}

/**
 * What must be loaded before a module: its "depends=" list, and the "pre:" names of its
 * "softdep=" (libcrc32c asks for the crc32c algorithm first). A soft dependency may name an
 * algorithm rather than a module: the generic implementation (crc32c_generic) is taken then.
 */
function dependsOf(bytes, index) {
  const hard = modinfo(bytes, 'depends').split(',').filter(Boolean);
  const soft = (/pre:\s*([^:]*?)(\s+post:|$)/.exec(modinfo(bytes, 'softdep'))?.[1] ?? '').split(/\s+/).filter(Boolean);
  const norm = (n) => n.replaceAll('-', '_');
  return [
    ...hard.map(norm),
    ...soft
      .map(norm)
      .map((n) => (index.has(n) ? n : `${n}_generic`))
      .filter((n) => index.has(n)),
  ];
}

/** The modules to load for `wanted`, dependencies first, skipping those built into the kernel. */
function resolveModules(modulesDir, wanted) {
  const builtin = new Set(
    readFileSync(join(modulesDir, 'modules.builtin'), 'utf8')
      .split('\n')
      .map((l) => /([^/]+)\.ko$/.exec(l)?.[1]?.replaceAll('-', '_'))
      .filter(Boolean),
  );
  const index = moduleIndex(modulesDir);
  const order = [];
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const path = index.get(name);
    if (!path) throw new Error(`module ${name} is neither built in nor in ${modulesDir}`);
    const bytes = moduleBytes(path);
    for (const d of dependsOf(bytes, index)) visit(d);
    order.push({ name, bytes });
  };
  for (const w of wanted) visit(w);
  return order;
}

/** What the cached files depend on: the init script, the module list and this file. */
function recipeHash() {
  const h = createHash('sha256');
  for (const f of ['init.sh', 'initramfs.mjs']) h.update(readFileSync(join(here, f)));
  h.update(MODULES.join(','));
  return h.digest('hex').slice(0, 12);
}

/**
 * The boot files of a fetched kernel (see lines.mjs), built under CACHE/boot/RELEASE-HASH on
 * first use: { vmlinux, initramfs, modules: [names in load order] }.
 */
export function bootFiles(cache, k) {
  const dir = join(cache, 'boot', `${k.release}-${recipeHash()}`);
  const done = join(dir, 'modules.txt');
  if (!existsSync(done)) {
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const tree = join(tmp, 'tree');
    for (const d of ['bin', 'dev', 'proc', 'sys', 'lib/modules', 'newroot'])
      mkdirSync(join(tree, d), { recursive: true });
    copyFileSync('/bin/busybox', join(tree, 'bin/busybox'));
    chmodSync(join(tree, 'bin/busybox'), 0o755);
    copyFileSync(join(here, 'init.sh'), join(tree, 'init'));
    chmodSync(join(tree, 'init'), 0o755);
    const mods = resolveModules(k.modules, MODULES);
    for (const m of mods) writeFileSync(join(tree, 'lib/modules', `${m.name}.ko`), m.bytes);
    writeFileSync(join(tree, 'lib/modules/order'), mods.map((m) => m.name).join('\n') + '\n');
    execFileSync('sh', [
      '-c',
      'cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > ../initramfs.cpio',
      'sh',
      tree,
    ]);
    rmSync(tree, { recursive: true });
    extractVmlinux(k.vmlinuz, join(tmp, 'vmlinux'));
    writeFileSync(join(tmp, 'modules.txt'), mods.map((m) => m.name).join(' ') + '\n');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    // Boot files of this release made by an older recipe are not used again.
    for (const old of readdirSync(join(cache, 'boot')))
      if (old.startsWith(`${k.release}-`) && join(cache, 'boot', old) !== dir)
        rmSync(join(cache, 'boot', old), { recursive: true, force: true });
  }
  return {
    vmlinux: join(dir, 'vmlinux'),
    initramfs: join(dir, 'initramfs.cpio'),
    modules: readFileSync(done, 'utf8').trim().split(' '),
  };
}

/** A one-file cpio archive (newc) holding /netns.env, appended to the initramfs for one run. */
export function envArchive(dir, vars) {
  const tree = join(dir, 'env-tree');
  mkdirSync(tree, { recursive: true });
  const q = (v) => `'${String(v).replaceAll("'", "'\\''")}'`;
  writeFileSync(
    join(tree, 'netns.env'),
    Object.entries(vars)
      .map(([k, v]) => `${k}=${q(v)}\n`)
      .join(''),
  );
  const out = join(dir, 'env.cpio');
  execFileSync('sh', ['-c', 'cd "$1" && echo netns.env | cpio -o -H newc --quiet -R 0:0 > "$2"', 'sh', tree, out]);
  return out;
}
