// The /proc/sys/net core that must be right, once, for both the addon and the rootless helper
// program (native/rootless/rootless_helper.cc): the procfs-checked root, the confined open
// beneath it, the directory walk, the walk flags and the packed walk encoding.
//
// Header-only, no N-API, no allocation, no locks, no exceptions (the helper is built
// -fno-exceptions). The open functions also run in clone.cc's child, a copy of one thread of the
// multithreaded Node process: only async-signal-safe calls there (system calls, string
// functions on the stack, a lock-free atomic).
// Paths arrive relative to /proc/sys/net and already validated by TypeScript; the checks here
// are the last line, not the first.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "syscompat.h"

namespace netns {
namespace core {

// Walk flags: exported to TypeScript as native.constants.WALK_READ / WALK_MODE / WALK_KEEP.
// kWalkKeep (with kWalkRead, and only for a sink that can keep fds: the addon's, never the
// rootless helper's, whose fds mean nothing in another process) keeps each file's read fd open
// and hands it to the sink (Sink::Keep) instead of closing it: a snapshot handle's fds.
enum WalkFlag : int { kWalkRead = 1, kWalkMode = 2, kWalkKeep = 4 };

// Longest path relative to /proc/sys/net a walk reports; deepest directory it enters.
constexpr size_t kRelCap = PATH_MAX;
constexpr int kMaxDepth = 16;
// Largest value a walk reads (the kernel zeroes a buffer of the requested size: read 4 KiB).
constexpr size_t kReadChunk = 4096;
constexpr size_t kMaxValue = 1u << 20;

// O_PATH fd on /proc/sys/net, verified to be procfs (a /proc that is not procfs is refused
// with EXDEV). A directory fd on /proc/sys/net resolves its children in the namespace of the
// thread doing the lookup, so one fd serves every namespace. Returns fd or -errno;
// `*atStatfs` tells whether the open (false) or the procfs check (true) failed.
inline int OpenNetRoot(bool* atStatfs) {
  *atStatfs = false;
  int fd = open("/proc/sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -errno;
  struct statfs sfs;
  int err = fstatfs(fd, &sfs) != 0 ? errno : sfs.f_type != PROC_SUPER_MAGIC ? EXDEV : 0;
  if (err) {
    close(fd);
    *atStatfs = true;
    return -err;
  }
  return fd;
}

struct OpenHow {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
constexpr uint64_t kResolveConfined =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
inline std::atomic<int> g_haveOpenat2{-1};  // -1 unknown, 0 no, 1 yes
static_assert(std::atomic<int>::is_always_lock_free,
              "the clone child reads g_haveOpenat2: no locks there");

// Fallback for kernels without openat2 (< 5.6): one component at a time, refusing symlinks at
// every step and "", "." and ".." components ("." alone names the root itself).
inline int OpenByComponents(int root, const char* rel, int flags) {
  if (rel[0] == '.' && rel[1] == 0) {
    int f = openat(root, ".", flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    return f < 0 ? -errno : f;
  }
  char comp[NAME_MAX + 1];
  int dir = root;
  const char* p = rel;
  for (;;) {
    const char* slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    int bad = len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')
                  ? EINVAL
              : len > NAME_MAX ? ENAMETOOLONG
                               : 0;
    if (bad) {
      if (dir != root) close(dir);
      return -bad;
    }
    memcpy(comp, p, len);
    comp[len] = 0;
    int f = slash ? openat(dir, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                  : openat(dir, comp, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    int err = errno;
    if (dir != root) close(dir);
    if (f < 0) return -err;
    if (!slash) return f;
    dir = f;
    p = slash + 1;
  }
}

// Open `rel` beneath `root` (from OpenNetRoot), confined: openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), or OpenByComponents on kernels
// without openat2. Always O_CLOEXEC | O_NOCTTY. Returns fd or -errno.
inline int OpenBeneath(int root, const char* rel, int flags) {
  if (g_haveOpenat2.load(std::memory_order_relaxed) != 0) {
    OpenHow how{};
    how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY);
    how.resolve = kResolveConfined;
    int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof how);
    if (fd >= 0) {
      g_haveOpenat2.store(1, std::memory_order_relaxed);
      return fd;
    }
    if (errno != ENOSYS) return -errno;
    g_haveOpenat2.store(0, std::memory_order_relaxed);
  }
  return OpenByComponents(root, rel, flags);
}

// Open a key to write it: read-write, so that the value can be read back, or write-only when
// it is not readable (EACCES). Sets *readable. Returns fd or -errno.
inline int OpenForWrite(int root, const char* rel, bool* readable) {
  *readable = true;
  int fd = OpenBeneath(root, rel, O_RDWR);
  if (fd != -EACCES) return fd;
  *readable = false;
  return OpenBeneath(root, rel, O_WRONLY);
}

// Access of a key fd: requested 0 read-only or 1 read-write; granted also 2 write-only.
enum Access : int { kRead = 0, kReadWrite = 1, kWrite = 2 };

// Open one key with `access`. Read-write falls back to read-only when the entry is not
// writable here, then to write-only when it is not readable either. Sets *granted and
// *denyErr (errno of the stronger access that was refused, 0 if none). Returns fd or -errno.
inline int OpenKey(int root, const char* rel, int access, int* granted, int* denyErr) {
  *denyErr = 0;
  if (access != kReadWrite) {
    *granted = kRead;
    return OpenBeneath(root, rel, O_RDONLY);
  }
  *granted = kReadWrite;
  int fd = OpenBeneath(root, rel, O_RDWR);
  if (fd != -EACCES && fd != -EPERM && fd != -EROFS) return fd;
  int rwErr = -fd;
  int rfd = OpenBeneath(root, rel, O_RDONLY);
  if (rfd >= 0) {
    *granted = kRead;
    *denyErr = rwErr;
    return rfd;
  }
  int roErr = -rfd;
  int wfd = OpenBeneath(root, rel, O_WRONLY);
  if (wfd >= 0) {
    *granted = kWrite;
    *denyErr = roErr;
    return wfd;
  }
  return fd;
}

// ---- the walk and its packed encoding ----
//
// A walk is ONE byte string, three NUL-terminated fields per regular file:
//   path (relative to /proc/sys/net) \0 mode (decimal, empty without kWalkMode) \0
//   outcome ("=" value, or "!" errno ":" syscall; empty without kWalkRead) \0
// With kWalkKeep the outcome of a file that opened starts with its kept fd in decimal
// ("17=4096\n", "18!5:read").
// Sysctl names and values never contain NUL. Both backends produce it with WalkTree below;
// lib/native/walk.ts is its one decoder.
//
// A Sink receives the bytes:
//   bool Begin(size_t relLen)      room for one entry (a chunked sink may flush); false = stop
//   void Put(const char*, size_t)  append
//   char* Room(size_t* avail)      writable space at the end (avail 0: full), then
//   void Commit(size_t n)          n bytes of it used
//   size_t Size(); void Truncate(size_t)
//   void End()                     the entry is complete
//   void Keep(int fd)              optional: takes ownership of a kept fd (kWalkKeep)

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

template <class Sink>
void PutStr(Sink& out, const char* s) {
  out.Put(s, strlen(s));
}

template <class Sink>
void PutDecimal(Sink& out, uint32_t v) {
  char d[10];
  size_t n = 0;
  do {
    d[sizeof d - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  out.Put(d + sizeof d - n, n);
}

// Append the contents of a sysctl file, read from offset 0 in small reads. Returns 0 or errno.
template <class Sink>
int ReadValue(int fd, Sink& out) {
  size_t got = 0;
  for (;;) {
    size_t avail = 0;
    char* p = out.Room(&avail);
    size_t want = avail < kReadChunk ? avail : kReadChunk;
    if (want == 0 || got > kMaxValue) return EFBIG;
    ssize_t n = pread(fd, p, want, (off_t)got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    out.Commit((size_t)n);
    got += (size_t)n;
    if ((size_t)n < want) return 0;
  }
}

// ---- walk bounds ----
//
// A walk may be bounded: lib/sysctl/bounds.ts decides which directories, names and numbers
// (the policy); this only applies them. The spec is one byte string, NUL-separated:
//   MAXENTRIES \0 { DIR \0 LIMIT \0 { NAME \0 } \0 }
// MAXENTRIES (decimal): once the walk has reported that many files, it enters no further
// child of a bounded directory. Each DIR (relative to /proc/sys/net) is a bounded directory:
// its children named NAME are always walked; each other child only while fewer than LIMIT
// others of that directory were and MAXENTRIES is not reached, in listing order (the kernel
// lists a sysctl directory in name order). A child not walked is reported as a skipped entry,
// "path \0 - \0 \0" (the mode field "-"), and not opened. Directories outside the spec are
// walked as always.
constexpr int kMaxBoundedDirs = 16;

struct WalkBounds {
  struct Dir {
    const char* rel;
    size_t relLen;
    uint32_t limit;
    uint32_t walked;    // children walked that are not named
    const char* names;  // NAME \0 NAME \0 ... (namesLen bytes)
    size_t namesLen;
  };
  Dir dirs[kMaxBoundedDirs];
  int ndirs = 0;
  uint64_t maxEntries = 0;
  uint64_t entries = 0;  // files reported so far

  // A decimal field of spec at *p, up to its NUL; false when malformed.
  static bool Number(const char* spec, size_t len, size_t* p, uint64_t* out) {
    uint64_t v = 0;
    size_t q = *p;
    if (q >= len || spec[q] == 0) return false;
    for (; q < len && spec[q] != 0; q++) {
      if (spec[q] < '0' || spec[q] > '9' || v > (UINT64_MAX - 9) / 10) return false;
      v = v * 10 + (uint64_t)(spec[q] - '0');
    }
    if (q >= len) return false;
    *p = q + 1;
    *out = v;
    return true;
  }

  // Parse spec[0, len) (the bytes stay the caller's and must outlive the walk).
  bool Parse(const char* spec, size_t len) {
    size_t p = 0;
    if (!Number(spec, len, &p, &maxEntries)) return false;
    while (p < len) {
      if (ndirs == kMaxBoundedDirs) return false;
      Dir& d = dirs[ndirs++];
      d.rel = spec + p;
      const char* z = (const char*)memchr(d.rel, 0, len - p);
      if (!z) return false;
      d.relLen = (size_t)(z - d.rel);
      p += d.relLen + 1;
      uint64_t limit = 0;
      if (!Number(spec, len, &p, &limit) || limit > UINT32_MAX) return false;
      d.limit = (uint32_t)limit;
      d.walked = 0;
      d.names = spec + p;
      for (;;) {  // names end at an empty one
        if (p >= len) return false;
        const char* e = (const char*)memchr(spec + p, 0, len - p);
        if (!e) return false;
        size_t n = (size_t)(e - (spec + p));
        p += n + 1;
        if (n == 0) break;
      }
      d.namesLen = (size_t)(spec + p - 1 - d.names);
    }
    return true;
  }

  // The bounded directory at rel[0, relLen), or nullptr.
  Dir* Find(const char* rel, size_t relLen) {
    for (int i = 0; i < ndirs; i++)
      if (dirs[i].relLen == relLen && memcmp(dirs[i].rel, rel, relLen) == 0) return &dirs[i];
    return nullptr;
  }

  // Whether child `name` (nl bytes) of `d` is walked; counts it when it is.
  bool Admit(Dir& d, const char* name, size_t nl) {
    for (const char *p = d.names, *end = d.names + d.namesLen; p < end;) {
      size_t n = strlen(p);
      if (n == nl && memcmp(p, name, nl) == 0) return true;
      p += n + 1;
    }
    if (d.walked >= d.limit || entries >= maxEntries) return false;
    d.walked++;
    return true;
  }
};

// Report rel[0, relLen) as skipped (not walked). Returns false if the sink asked to stop.
template <class Sink>
bool WalkSkipped(const char* rel, size_t relLen, Sink& out) {
  if (!out.Begin(relLen)) return false;
  out.Put(rel, relLen);
  out.Put("\0-\0\0", 4);
  out.End();
  return true;
}

// Whether Sink can take kept fds (has Keep(int)).
template <class S, class = void>
struct CanKeep : std::false_type {};
template <class S>
struct CanKeep<S, std::void_t<decltype(std::declval<S&>().Keep(0))>> : std::true_type {};

// One regular file `name` in directory `dfd`, at path `rel`.
template <class Sink>
bool WalkEntry(int dfd, const char* name, const char* rel, size_t relLen, uint32_t mode, int flags,
               Sink& out) {
  if (!out.Begin(relLen)) return false;
  out.Put(rel, relLen);
  out.Put("", 1);
  if (flags & kWalkMode) PutDecimal(out, mode);
  out.Put("", 1);
  if (flags & kWalkRead) {
    int err = 0;
    const char* step = "open";
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
      err = errno;
    } else {
      bool keep = false;
      if constexpr (CanKeep<Sink>::value) keep = (flags & kWalkKeep) != 0;
      if (keep) PutDecimal(out, (uint32_t)fd);
      size_t mark = out.Size();
      out.Put("=", 1);
      err = ReadValue(fd, out);
      if constexpr (CanKeep<Sink>::value) {
        if (keep)
          out.Keep(fd);
        else
          close(fd);
      } else {
        close(fd);
      }
      step = "read";
      if (err) out.Truncate(mark);
    }
    if (err) {
      out.Put("!", 1);
      PutDecimal(out, (uint32_t)err);
      out.Put(":", 1);
      PutStr(out, step);
    }
  }
  out.Put("", 1);
  out.End();
  return true;
}

// Walk directory `dfd` (not closed here) whose path is rel[0, relLen); rel has kRelCap bytes.
// Entries that vanish or are neither directories nor regular files are skipped (sysctl trees
// hold only those two). `bounds` (may be null) bounds it (see WalkBounds). Returns false if
// the sink asked to stop.
template <class Sink>
bool WalkTree(int dfd, char* rel, size_t relLen, int flags, Sink& out, WalkBounds* bounds = nullptr,
              int depth = 0) {
  alignas(8) char dbuf[4096];
  WalkBounds::Dir* bounded = bounds ? bounds->Find(rel, relLen) : nullptr;
  for (;;) {
    long nread = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf);
    if (nread <= 0) return true;
    for (long pos = 0; pos < nread;) {
      LinuxDirent64* d = (LinuxDirent64*)(dbuf + pos);
      pos += d->d_reclen;
      const char* name = d->d_name;
      if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
      size_t nl = strlen(name);
      if (relLen + 1 + nl >= kRelCap) continue;
      size_t newLen = relLen;
      if (relLen) rel[newLen++] = '/';
      memcpy(rel + newLen, name, nl);
      newLen += nl;
      rel[newLen] = 0;
      if (bounded && !bounds->Admit(*bounded, name, nl)) {
        bool go = WalkSkipped(rel, newLen, out);
        rel[relLen] = 0;
        if (!go) return false;
        continue;
      }
      unsigned char type = d->d_type;
      uint32_t mode = 0;
      bool ok = true;
      if (type == DT_UNKNOWN || (flags & kWalkMode)) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
          type = DT_UNKNOWN;
        else {
          mode = st.st_mode & 07777;
          type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
      }
      if (type == DT_DIR && depth <= kMaxDepth) {
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          ok = WalkTree(sub, rel, newLen, flags, out, bounds, depth + 1);
          close(sub);
        }
      } else if (type == DT_REG) {
        ok = WalkEntry(dfd, name, rel, newLen, mode, flags, out);
        if (bounds) bounds->entries++;
      }
      rel[relLen] = 0;
      if (!ok) return false;
    }
  }
}

}  // namespace core
}  // namespace netns
