// Rootless mode: the wire protocol between the addon (rootless.cc) and the helper
// program (rootless_helper.cc), and the few async-signal-safe routines both use.
// Everything here is header-only and allocation-free: the addon also runs it in a child cloned
// from the multithreaded Node process, before that child execs the helper program.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include "syscompat.h"
#include "sysctl_core.h"

namespace netns {
namespace rootless {

enum Op : uint32_t { kOpGo = 1, kOpOpen = 2, kOpWalk = 3, kOpIds = 4, kOpSpawn = 5, kOpExit = 6 };

// Which step failed, so the parent can name the syscall.
enum Step : uint32_t {
  kStepNone = 0,
  kStepOpen,
  kStepRead,
  kStepFstatfs,
  kStepClone,
  kStepPipe,
  kStepChdir,
  kStepExecve,
  kStepGetdents,
  kStepFstatat,
  kStepSend,
  kStepRecv,
  kStepProto,
  kStepSetsid,
  kStepCount
};
const char* const kStepNames[kStepCount] = {"",
                                            "open",
                                            "read",
                                            "fstatfs",
                                            "clone3",
                                            "pipe2",
                                            "chdir",
                                            "execve",
                                            "getdents64",
                                            "fstatat",
                                            "sendmsg",
                                            "recvmsg",
                                            "rootless-protocol",
                                            "setsid"};

// Every request carries an id, and every message of its reply carries the same id: a reply
// is only ever taken as the answer to the request it names (a late reply to a request that
// timed out is recognised, never attributed to the next one). 0 is the setup handshake's.
struct ReqHdr {
  uint32_t op;
  uint32_t n;   // OPEN: entries; WALK: flags; SPAWN: argc
  uint32_t a;   // SPAWN: envc
  uint32_t b;   // SPAWN: flags (kSpawnCwd, kSpawnSetsid)
  uint32_t id;  // chosen by the parent, echoed in the reply
  uint32_t pad;
};
struct RespHdr {
  int32_t err;    // errno of a failure of the whole request, 0 otherwise
  uint32_t step;  // Step of that failure
  uint32_t n;     // entries in this message
  uint32_t last;  // WALK: 1 on the final chunk
  uint32_t id;    // the id of the request this answers
  uint32_t pad;
};
// A WALK reply is chunks of the packed walk (sysctl_core.h), each after its RespHdr; n counts
// the entries in the chunk. Concatenated, they are exactly what the addon's sysctlWalk returns.
struct ReadyBody {
  uint64_t capEff;
};
struct OpenRes {
  int32_t err;      // errno when nothing could be opened
  int32_t denyErr;  // errno of the stronger access that was refused (granted < requested)
  uint8_t hasFd;
  uint8_t granted;  // 0 read-only, 1 read-write, 2 write-only
  uint8_t pad[2];
};
struct SpawnBody {
  int32_t pid;
};
enum { kSpawnCwd = 1, kSpawnSetsid = 2 };

constexpr size_t kInCap = 256 * 1024;  // largest request (SPAWN argv + env)
constexpr size_t kOutCap = 60 * 1024;  // largest reply chunk (fits any SEQPACKET send buffer)
constexpr int kMaxFdsPerMsg = 200;     // below SCM_MAX_FD (253)
constexpr size_t kMaxPtrs = 16384;     // argv + envp entries for SPAWN
constexpr size_t kHelperStack = 512 * 1024;

// The helper program's fds: 0-2 /dev/null, the socket on 3.
constexpr int kHelperSock = 3;

using core::LinuxDirent64;

inline void SafeClose(int fd) {
  if (fd >= 0) close(fd);
}

// A message header over the one buffer `buf` of `len` bytes, no control data yet.
inline void OneBufferMsg(struct msghdr& mh, struct iovec& iov, void* buf, size_t len) {
  iov.iov_base = buf;
  iov.iov_len = len;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
}

// sendmsg with optional fds; returns 0 or errno.
inline int SendMsg(int sock, const void* buf, size_t len, const int* fds, int nfds) {
  struct iovec iov;
  struct msghdr mh;
  OneBufferMsg(mh, iov, const_cast<void*>(buf), len);
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMsg)];
  if (nfds > 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  for (;;) {
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// recvmsg with fds (received close-on-exec). Returns bytes (0 = EOF) or -errno.
inline ssize_t RecvMsg(int sock, void* buf, size_t cap, int* fds, int maxFds, int* nfds) {
  struct iovec iov;
  struct msghdr mh;
  OneBufferMsg(mh, iov, buf, cap);
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFdsPerMsg)];
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  for (;;) {
    n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno != EINTR) return -errno;
  }
  *nfds = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int* p = (int*)CMSG_DATA(c);
    for (int i = 0; i < cnt; i++) {
      if (*nfds < maxFds)
        fds[(*nfds)++] = p[i];
      else
        close(p[i]);  // more than the caller expected: never leak
    }
  }
  if (mh.msg_flags & MSG_TRUNC) return -EMSGSIZE;
  return n;
}

// Default dispositions for every signal and an empty mask (a new program inherits both).
inline void ResetSignals() {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < _NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &sa, nullptr);  // fails harmlessly for the reserved real-time signals
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace rootless
}  // namespace netns
