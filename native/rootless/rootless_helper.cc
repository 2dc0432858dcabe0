// netns-rootless: the helper program of rootless mode. The addon clones a child with
// CLONE_NEWUSER | CLONE_NEWNET, writes its uid/gid maps and lets it exec this program, so the
// helper does not keep a copy-on-write snapshot of Node's memory alive. It starts with the
// request socket on fd 3 and 0-2 on /dev/null, argv[1] = the parent's pid; it serves
// requests (see rootless_proto.h) until the socket closes, and dies with its parent.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "rootless/rootless_proto.h"
#include "syscompat.h"
#include "sysctl_core.h"

using namespace netns::rootless;
namespace core = netns::core;

namespace {

alignas(16) char g_in[kInCap];
alignas(16) char g_out[kOutCap];
char* g_ptrs[kMaxPtrs];
int g_rootFd = -1;     // /proc/sys/net in the helper's namespace
uint32_t g_reqId = 0;  // id of the request being served: every reply message carries it

void ReplyErr(int sock, int err, uint32_t step) {
  RespHdr h{err, step, 0, 1, g_reqId, 0};
  SendMsg(sock, &h, sizeof h, nullptr, 0);
}

// OPEN: n × [u8 access][rel\0]. access 0 read-only, 1 read-write with fallbacks.
void HelperOpen(int sock, const char* body, size_t len, uint32_t n) {
  if (n > (uint32_t)kMaxFdsPerMsg) return ReplyErr(sock, E2BIG, kStepProto);
  RespHdr* h = (RespHdr*)g_out;
  OpenRes* res = (OpenRes*)(g_out + sizeof(RespHdr));
  int fds[kMaxFdsPerMsg];
  int nfds = 0;
  size_t off = 0;
  for (uint32_t i = 0; i < n; i++) {
    OpenRes& r = res[i];
    memset(&r, 0, sizeof r);
    if (off >= len) {
      r.err = EINVAL;
      continue;
    }
    uint8_t access = (uint8_t)body[off++];
    const char* rel = body + off;
    const char* end = (const char*)memchr(rel, 0, len - off);
    if (!end) {
      r.err = EINVAL;
      off = len;
      continue;
    }
    off += (size_t)(end - rel) + 1;
    int granted = 0, denyErr = 0;
    int fd = core::OpenKey(g_rootFd, rel, access, &granted, &denyErr);
    r.granted = (uint8_t)granted;
    r.denyErr = denyErr;
    if (fd < 0) {
      r.err = -fd;
      continue;
    }
    r.hasFd = 1;
    fds[nfds++] = fd;
  }
  h->err = 0;
  h->step = 0;
  h->n = n;
  h->last = 1;
  h->id = g_reqId;
  h->pad = 0;
  SendMsg(sock, g_out, sizeof(RespHdr) + n * sizeof(OpenRes), fds, nfds);
  for (int i = 0; i < nfds; i++) close(fds[i]);
}

// ---- WALK ----

// The helper's walk sink (see core::WalkTree): the packed walk in chunks that each fit one
// reply message, sent as they fill. The parent concatenates the chunks.
struct ChunkSink {
  static constexpr size_t kCap = kOutCap - sizeof(RespHdr);
  static constexpr size_t kSlack = 64;  // mode, separators and "!errno:syscall" around a value
  int sock;
  size_t used = 0;  // bytes in g_out after the header
  size_t pending = 0;
  uint32_t count = 0;
  int sendErr = 0;
  bool overflow = false;

  char* At(size_t off) { return g_out + sizeof(RespHdr) + off; }
  bool Flush(bool last, int err, uint32_t step) {
    RespHdr* h = (RespHdr*)g_out;
    h->err = err;
    h->step = step;
    h->n = count;
    h->last = last ? 1 : 0;
    h->id = g_reqId;
    h->pad = 0;
    int e = SendMsg(sock, g_out, sizeof(RespHdr) + used, nullptr, 0);
    used = 0;
    count = 0;
    if (e) sendErr = e;
    return e == 0;
  }
  bool Begin(size_t relLen) {
    if (overflow) return false;
    if (used + relLen + 2 * kSlack + core::kReadChunk > kCap && count > 0)
      return Flush(false, 0, 0);
    return true;
  }
  void Put(const char* p, size_t n) {
    if (used + n > kCap) {
      overflow = true;
      return;
    }
    memcpy(At(used), p, n);
    used += n;
  }
  char* Room(size_t* avail) {
    *avail = used + kSlack < kCap ? kCap - kSlack - used : 0;
    pending = used;
    return At(used);
  }
  void Commit(size_t n) { used = pending + n; }
  size_t Size() const { return used; }
  void Truncate(size_t n) { used = n; }
  void End() { count++; }
};

void HelperWalk(int sock, const char* body, size_t len, uint32_t flags) {
  static char rel[core::kRelCap];
  const char* end = (const char*)memchr(body, 0, len);
  if (!end || (size_t)(end - body) >= sizeof rel) return ReplyErr(sock, EINVAL, kStepProto);
  size_t plen = (size_t)(end - body);
  memcpy(rel, body, plen + 1);
  // The bounds spec follows the prefix's NUL (core::WalkBounds); it stays in the request buffer.
  core::WalkBounds bounds;
  size_t blen = len - plen - 1;
  if (blen > 0 && !bounds.Parse(end + 1, blen)) return ReplyErr(sock, EINVAL, kStepProto);
  ChunkSink w;
  w.sock = sock;
  int fd = core::OpenBeneath(g_rootFd, plen ? rel : ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    w.Flush(true, -fd, kStepOpen);
    return;
  }
  core::WalkTree(fd, rel, plen, (int)flags, w, blen > 0 ? &bounds : nullptr);
  close(fd);
  if (w.sendErr) return;
  if (w.overflow)
    w.Flush(true, EMSGSIZE, kStepProto);
  else
    w.Flush(true, 0, 0);
}

void HelperIds(int sock) {
  int fds[2];
  fds[0] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fds[0] < 0) return ReplyErr(sock, errno, kStepOpen);
  fds[1] = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (fds[1] < 0) {
    int e = errno;
    close(fds[0]);
    return ReplyErr(sock, e, kStepOpen);
  }
  RespHdr h{0, 0, 2, 1, g_reqId, 0};
  SendMsg(sock, &h, sizeof h, fds, 2);
  close(fds[0]);
  close(fds[1]);
}

long Clone3(uint64_t flags, int* pidfd) {
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = flags;
  ca.pidfd = (uint64_t)(uintptr_t)pidfd;
  // clone3 wants exit_signal 0 with CLONE_PARENT: the child then inherits ours (SIGCHLD).
  ca.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
  long r = syscall(SYS_clone3, &ca, sizeof ca);
  if (r >= 0 || errno != ENOSYS) return r;
#if defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__)
  // clone(flags, stack, parent_tid, ...): with CLONE_PIDFD the pidfd lands in parent_tid.
  return syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0UL, pidfd, 0UL, 0UL);
#else
  return r;
#endif
}

// SPAWN: strings path, argv[argc], envp[envc], [cwd]; 3 stdio fds attached.
void HelperSpawn(int sock, const char* body, size_t len, const ReqHdr& rq, int* fds, int nfds) {
  auto done = [&](int err, uint32_t step, int pid, int pidfd) {
    struct {
      RespHdr h;
      SpawnBody b;
    } r;
    r.h = RespHdr{err, step, 0, 1, g_reqId, 0};
    r.b.pid = pid;
    SendMsg(sock, &r, sizeof r, pidfd >= 0 ? &pidfd : nullptr, pidfd >= 0 ? 1 : 0);
    SafeClose(pidfd);
    for (int i = 0; i < nfds; i++) close(fds[i]);
  };
  uint32_t argc = rq.n, envc = rq.a, flags = rq.b;
  size_t nstr = 1 + argc + envc + ((flags & kSpawnCwd) ? 1 : 0);
  if (nfds != 3 || argc + envc + 2 > kMaxPtrs) return done(EINVAL, kStepProto, 0, -1);
  // Point at each NUL-terminated string in place.
  size_t off = 0;
  char** argv = g_ptrs;
  char** envp = g_ptrs + argc + 1;
  const char* path = nullptr;
  const char* cwd = nullptr;
  for (size_t i = 0; i < nstr; i++) {
    if (off >= len) return done(EINVAL, kStepProto, 0, -1);
    const char* s = body + off;
    const char* end = (const char*)memchr(s, 0, len - off);
    if (!end) return done(EINVAL, kStepProto, 0, -1);
    off += (size_t)(end - s) + 1;
    if (i == 0)
      path = s;
    else if (i <= argc)
      argv[i - 1] = const_cast<char*>(s);
    else if (i <= argc + envc)
      envp[i - 1 - argc] = const_cast<char*>(s);
    else
      cwd = s;
  }
  argv[argc] = nullptr;
  envp[envc] = nullptr;

  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) return done(errno, kStepPipe, 0, -1);
  int pidfd = -1;
  long pid = Clone3(CLONE_PARENT | CLONE_PIDFD, &pidfd);
  if (pid < 0) {
    int e = errno;
    close(pfd[0]);
    close(pfd[1]);
    return done(e, kStepClone, 0, -1);
  }
  if (pid == 0) {
    // The command child: set up and exec, or report {errno, step} through the pipe.
    close(pfd[0]);
    int32_t report[2] = {0, 0};
    ResetSignals();
    if (flags & kSpawnSetsid) {
      if (setsid() < 0) {
        report[0] = errno;
        report[1] = kStepSetsid;
        goto fail;
      }
    }
    // Received fds are >= 3 (0-2 are taken in the helper), so dup2 never clobbers a source.
    for (int i = 0; i < 3; i++) {
      if (dup2(fds[i], i) < 0) {
        report[0] = errno;
        report[1] = kStepOpen;
        goto fail;
      }
    }
    if (cwd && chdir(cwd) != 0) {
      report[0] = errno;
      report[1] = kStepChdir;
      goto fail;
    }
    execve(path, argv, envp);
    report[0] = errno;
    report[1] = kStepExecve;
  fail:
    (void)!write(pfd[1], report, sizeof report);
    _exit(127);
  }
  close(pfd[1]);
  int32_t report[2] = {0, 0};
  ssize_t n;
  do {
    n = read(pfd[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(pfd[0]);
  if (n == (ssize_t)sizeof report) return done(report[0], (uint32_t)report[1], (int)pid, pidfd);
  done(0, 0, (int)pid, pidfd);  // EOF: execve succeeded (the pipe was close-on-exec)
}

// Serve requests until the socket closes.
void Serve(int sock) {
  int fds[kMaxFdsPerMsg];
  int nfds = 0;
  ssize_t n;
  for (;;) {
    n = RecvMsg(sock, g_in, kInCap, fds, kMaxFdsPerMsg, &nfds);
    if (n == -EMSGSIZE) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      memcpy(&g_reqId, g_in + offsetof(ReqHdr, id), sizeof g_reqId);  // the header did arrive
      ReplyErr(sock, E2BIG, kStepProto);
      continue;
    }
    if (n <= 0) _exit(0);  // EOF: the parent closed the handle (or died)
    if ((size_t)n < sizeof(ReqHdr)) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      g_reqId = 0;  // unknown: the parent takes it as a desynchronised helper
      ReplyErr(sock, EINVAL, kStepProto);
      continue;
    }
    ReqHdr rq;
    memcpy(&rq, g_in, sizeof rq);
    g_reqId = rq.id;
    const char* body = g_in + sizeof(ReqHdr);
    size_t blen = (size_t)n - sizeof(ReqHdr);
    if (rq.op != kOpSpawn) {
      for (int i = 0; i < nfds; i++) close(fds[i]);
      nfds = 0;
    }
    switch (rq.op) {
      case kOpOpen:
        HelperOpen(sock, body, blen, rq.n);
        break;
      case kOpWalk:
        HelperWalk(sock, body, blen, rq.n);
        break;
      case kOpIds:
        HelperIds(sock);
        break;
      case kOpSpawn:
        HelperSpawn(sock, body, blen, rq, fds, nfds);
        break;
      case kOpExit:
        _exit(0);
      default:
        ReplyErr(sock, EINVAL, kStepProto);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Die with the parent; it may have died already, before this point.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  long parent = 0;
  if (argc > 1)
    for (const char* c = argv[1]; *c >= '0' && *c <= '9'; c++) parent = parent * 10 + (*c - '0');
  if (parent <= 0 || getppid() != (pid_t)parent) return 1;
  int sock = kHelperSock;
  struct stat sst;
  if (fstat(sock, &sst) != 0 || !S_ISSOCK(sst.st_mode)) return 2;

  struct {
    RespHdr h;
    ReadyBody b;
  } ready;
  memset(&ready, 0, sizeof ready);
  ready.h.last = 1;
  bool atStatfs;
  g_rootFd = core::OpenNetRoot(&atStatfs);
  if (g_rootFd < 0) {
    ready.h.err = -g_rootFd;
    ready.h.step = atStatfs ? kStepFstatfs : kStepOpen;
  }
  struct __user_cap_header_struct ch;
  struct __user_cap_data_struct cd[2];
  memset(&ch, 0, sizeof ch);
  memset(cd, 0, sizeof cd);
  ch.version = _LINUX_CAPABILITY_VERSION_3;
  if (syscall(SYS_capget, &ch, cd) == 0)
    ready.b.capEff = (uint64_t)cd[0].effective | ((uint64_t)cd[1].effective << 32);
  if (SendMsg(sock, &ready, sizeof ready, nullptr, 0) != 0 || ready.h.err) return 0;
  Serve(sock);
  return 0;
}
