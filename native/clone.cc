// clone(CLONE_NEWNET): a child process born in a new network namespace performs a prepared
// list of /proc/sys/net reads and writes, reports over a pipe and exits.
//
// Everything runs on a thread of its own (Threads::Run; never the JS thread, the libuv pool or
// the executor): it clones the child, writes the user-namespace maps when asked (WriteIdMaps),
// reads the report to EOF, reaps the child (WaitChild) and hands the result to the JS thread.
// If the environment goes away meanwhile, the child is killed so that the thread sees EOF.
// The child is a copy of that one thread of a multithreaded process, so between clone() and
// _exit() it only makes async-signal-safe system calls on memory prepared before the clone:
// no malloc, no locks, no C++ runtime. It opens keys with the one confined open
// (sysctl_core.h), which keeps to that.
//
// Report framing (child -> parent), a sequence of records:
//   struct RecHeader { u32 kind; u32 index; i32 err; u32 len; } followed by `len` bytes.
//   kIdent   index = kNoIndex, 16 bytes: u64 dev, u64 ino of the child's /proc/self/ns/net
//   kChunk   a piece of the value of op `index` (values longer than one read come in pieces)
//   kDone    op `index` finished; its value is the concatenation of its chunks
//   kNoValue op `index` was written and is not readable (write-only entry)
//   kError   op `index` (or kNoIndex: the identity) failed: err = errno; no payload, and
//            `len` carries the failing step (open / read / write / stat) instead of a length
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "netns.h"
#include "syscompat.h"
#include "sysctl_core.h"
#include "threads.h"

namespace netns {

namespace {

enum RecKind : uint32_t { kIdent = 1, kChunk = 2, kDone = 3, kNoValue = 4, kError = 5 };
enum Step : uint32_t { kStepOpen = 1, kStepRead = 2, kStepWrite = 3, kStepStat = 4 };
const uint32_t kNoIndex = 0xffffffffu;

struct RecHeader {
  uint32_t kind;
  uint32_t index;
  int32_t err;
  uint32_t len;
};

// Exit codes of the child for failures before it can report.
enum ChildExit { kExitOk = 0, kExitNoGo = 70, kExitOrphan = 71, kExitReport = 72 };

const size_t kStackSize = 256 * 1024;

struct OpResult {
  bool done = false;
  bool hasValue = false;
  int err = 0;
  uint32_t step = 0;
  std::string value;
};

// One call: a task on a thread of its own (threads.h).
struct CloneOp : Task {
  // Inputs, prepared before the clone and only read by the child.
  std::vector<std::string> rels;
  std::vector<std::string> vals;
  std::vector<char> isWrite;
  bool user = false;
  uint32_t uid = 0, gid = 0;
  pid_t parentPid = 0;
  uint32_t holdMs = 0;  // test hook: the child sleeps this long before its work
  int reportR = -1, reportW = -1, syncR = -1, syncW = -1;

  // Outputs.
  int setupErr = 0;  // clone / pipe2 / map writes failed
  const char* setupSyscall = "";
  std::string setupPath;
  pid_t pid = -1;
  // Read by Abort() to kill the child; closed only here, once no Abort() can come (the task
  // has been delivered).
  std::atomic<int> pidfd{-1};
  bool hasIdent = false;
  uint64_t dev = 0, ino = 0;
  int identErr = 0;
  std::vector<OpResult> results;
  int exitCode = -1, termSignal = 0;
  bool protocolError = false;

  ~CloneOp() override;
  void Work() override;
  Napi::Value Result(Napi::Env env, bool& reject) override;
  // The environment is going away: kill the child, so that the thread sees EOF, reaps and ends.
  void Abort() override;
};

// ---- the child: async-signal-safe only ----

bool WriteAll(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    c += w;
    n -= (size_t)w;
  }
  return true;
}

void Record(const CloneOp* op, uint32_t kind, uint32_t index, int32_t err, uint32_t len,
            const void* payload) {
  RecHeader h{kind, index, err, len};
  if (!WriteAll(op->reportW, &h, sizeof h) ||
      (payload && len && !WriteAll(op->reportW, payload, len)))
    _exit(kExitReport);
}

// Read the whole value of `fd` from offset 0, sending it in pieces of at most 4 KiB (the
// kernel zeroes a buffer of the requested size on each sysctl read).
void ChildSendValue(const CloneOp* op, uint32_t i, int fd) {
  char buf[4096];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Record(op, kError, i, errno, kStepRead, nullptr);
      return;
    }
    if (n > 0) Record(op, kChunk, i, 0, (uint32_t)n, buf);
    if ((size_t)n < sizeof buf || off > (1 << 20)) break;
    off += n;
  }
  Record(op, kDone, i, 0, 0, nullptr);
}

int ChildMain(void* arg) {
  const CloneOp* op = static_cast<const CloneOp*>(arg);
  close(op->reportR);
  close(op->syncW);
  // Die with the process that waits for us (the waiter thread lives until we are reaped,
  // so this fires only if the whole parent process dies).
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != op->parentPid) _exit(kExitOrphan);
  // Wait for the parent's go: it writes the uid/gid maps first when we are in a new user
  // namespace. EOF means the parent gave up.
  char go;
  ssize_t n;
  do {
    n = read(op->syncR, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) _exit(kExitNoGo);
  close(op->syncR);
  if (op->holdMs) {
    struct timespec ts = {(time_t)(op->holdMs / 1000), (long)(op->holdMs % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }

  struct stat st;
  if (stat("/proc/self/ns/net", &st) == 0) {
    uint64_t id[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
    Record(op, kIdent, kNoIndex, 0, sizeof id, id);
  } else {
    Record(op, kError, kNoIndex, errno, kStepStat, nullptr);
  }

  bool atStatfs;
  int root = core::OpenNetRoot(&atStatfs);  // -errno on failure
  for (uint32_t i = 0; i < op->rels.size(); i++) {
    if (root < 0) {
      Record(op, kError, i, -root, kStepOpen, nullptr);
      continue;
    }
    const char* rel = op->rels[i].c_str();
    if (op->isWrite[i]) {
      bool readable;
      int fd = core::OpenForWrite(root, rel, &readable);
      if (fd < 0) {
        Record(op, kError, i, -fd, kStepOpen, nullptr);
        continue;
      }
      const std::string& v = op->vals[i];
      ssize_t w;
      do {
        w = pwrite(fd, v.data(), v.size(), 0);
      } while (w < 0 && errno == EINTR);
      if (w < 0 || (size_t)w != v.size()) {
        Record(op, kError, i, w < 0 ? errno : EIO, kStepWrite, nullptr);
      } else if (readable) {
        ChildSendValue(op, i, fd);
      } else {
        Record(op, kNoValue, i, 0, 0, nullptr);
      }
      close(fd);
    } else {
      int fd = core::OpenBeneath(root, rel, O_RDONLY);
      if (fd < 0) {
        Record(op, kError, i, -fd, kStepOpen, nullptr);
        continue;
      }
      ChildSendValue(op, i, fd);
      close(fd);
    }
  }
  _exit(kExitOk);
}

// ---- the parent side, on the waiter thread ----

bool ReadFull(int fd, void* p, size_t n, bool& eof) {
  char* c = static_cast<char*>(p);
  size_t got = 0;
  eof = false;
  while (got < n) {
    ssize_t r = read(fd, c + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) {
      eof = true;
      return got == 0;  // a clean EOF only between records
    }
    got += (size_t)r;
  }
  return true;
}

void ReadReport(CloneOp* op) {
  op->results.resize(op->rels.size());
  for (;;) {
    RecHeader h;
    bool eof;
    if (!ReadFull(op->reportR, &h, sizeof h, eof)) {
      op->protocolError = true;
      return;
    }
    if (eof) return;
    std::string payload;
    bool hasPayload = h.kind == kIdent || h.kind == kChunk;
    if (hasPayload) {
      if (h.len > (1u << 21)) {
        op->protocolError = true;
        return;
      }
      payload.resize(h.len);
      if (h.len && (!ReadFull(op->reportR, &payload[0], h.len, eof) || eof)) {
        op->protocolError = true;
        return;
      }
    }
    if (h.index == kNoIndex) {
      if (h.kind == kIdent && payload.size() == 16) {
        memcpy(&op->dev, payload.data(), 8);
        memcpy(&op->ino, payload.data() + 8, 8);
        op->hasIdent = true;
      } else if (h.kind == kError) {
        op->identErr = h.err;
      } else {
        op->protocolError = true;
      }
      continue;
    }
    if (h.index >= op->results.size()) {
      op->protocolError = true;
      return;
    }
    OpResult& r = op->results[h.index];
    switch (h.kind) {
      case kChunk:
        r.value += payload;
        break;
      case kDone:
        r.done = true;
        r.hasValue = true;
        break;
      case kNoValue:
        r.done = true;
        break;
      case kError:
        r.done = true;
        r.err = h.err;
        r.step = h.len;
        r.value.clear();
        break;
      default:
        op->protocolError = true;
        return;
    }
  }
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Clone the child, let it go, collect its report and reap it.
void RunOp(CloneOp* op) {
  int rp[2], sp[2];
  if (pipe2(rp, O_CLOEXEC) != 0) {
    op->setupErr = errno;
    op->setupSyscall = "pipe2";
    return;
  }
  if (pipe2(sp, O_CLOEXEC) != 0) {
    op->setupErr = errno;
    op->setupSyscall = "pipe2";
    close(rp[0]);
    close(rp[1]);
    return;
  }
  op->reportR = rp[0];
  op->reportW = rp[1];
  op->syncR = sp[0];
  op->syncW = sp[1];
  op->parentPid = getpid();

  void* stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    op->setupErr = errno;
    op->setupSyscall = "mmap";
  } else {
    int flags = CLONE_NEWNET | CLONE_PIDFD | SIGCHLD;
    if (op->user) flags |= CLONE_NEWUSER;
    int pidfd = -1;
    pid_t pid = clone(ChildMain, static_cast<char*>(stack) + kStackSize, flags, op, &pidfd);
    if (pid < 0) {
      op->setupErr = errno;
      op->setupSyscall = "clone";
    } else {
      op->pid = pid;
      op->pidfd.store(pidfd);
      // Abort() raced with us: `aborted` is set before it reads pidfd; we store pidfd, then
      // read `aborted` (both seq_cst), so one of the two sends the kill.
      if (op->aborted.load()) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    }
    // The child runs on its own copy of the address space: our mapping can go.
    munmap(stack, kStackSize);
  }
  CloseFd(op->reportW);
  CloseFd(op->syncR);
  if (op->pid < 0) {
    CloseFd(op->reportR);
    CloseFd(op->syncW);
    return;
  }

  if (op->user) {
    int err = WriteIdMaps(op->pid, op->uid, op->gid, &op->setupPath);
    if (err) {
      op->setupErr = err;
      op->setupSyscall = "write";
      CloseFd(op->syncW);  // the child reads EOF and exits without doing anything
    }
  }
  if (op->syncW >= 0) {
    char go = 1;
    if (!WriteAll(op->syncW, &go, 1) && !op->setupErr) {
      op->setupErr = errno;
      op->setupSyscall = "write";
    }
    CloseFd(op->syncW);
  }

  ReadReport(op);
  CloseFd(op->reportR);

  siginfo_t si;
  if (WaitChild(op->pid, op->pidfd.load(), &si) == 0) {
    if (si.si_code == CLD_EXITED)
      op->exitCode = si.si_status;
    else
      op->termSignal = si.si_status;
  }
}

void CloneOp::Work() { RunOp(this); }

void CloneOp::Abort() {
  int fd = pidfd.load();
  if (fd >= 0) syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
}

CloneOp::~CloneOp() {
  for (int fd : {reportR, reportW, syncR, syncW, pidfd.load()})
    if (fd >= 0) close(fd);
}

// ---- the JS side ----

Napi::Value ResultValue(Napi::Env env, CloneOp* op, bool& reject) {
  if (op->setupErr) {
    reject = true;
    return ErrnoObject(env, op->setupErr, op->setupSyscall, op->setupPath);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, op->pid));
  if (op->hasIdent) {
    o.Set("dev", Napi::Number::New(env, (double)op->dev));
    o.Set("ino", Napi::Number::New(env, (double)op->ino));
  } else if (op->identErr) {
    o.Set("identError", ErrnoObject(env, op->identErr, "stat", "/proc/self/ns/net"));
  }
  Napi::Array a = Napi::Array::New(env, op->results.size());
  for (size_t i = 0; i < op->results.size(); i++) {
    const OpResult& r = op->results[i];
    if (!r.done) {
      a.Set(i, env.Undefined());
    } else if (r.err) {
      const char* sc = r.step == kStepWrite ? "write" : r.step == kStepRead ? "read" : "open";
      a.Set(i, ErrnoObject(env, r.err, sc, "/proc/sys/net/" + op->rels[i]));
    } else if (r.hasValue) {
      a.Set(i, StringOf(env, r.value));
    } else {
      a.Set(i, env.Null());
    }
  }
  o.Set("results", a);
  o.Set("exitCode",
        op->exitCode >= 0 ? Napi::Value(Napi::Number::New(env, op->exitCode)) : env.Null());
  o.Set("signal",
        op->termSignal ? Napi::Value(Napi::Number::New(env, op->termSignal)) : env.Null());
  o.Set("protocolError", Napi::Boolean::New(env, op->protocolError));
  return o;
}

Napi::Value CloneOp::Result(Napi::Env env, bool& reject) { return ResultValue(env, this, reject); }

// cloneNetns(rels: string[], values: (string|null)[], user: null | [uid, gid], holdMs?) -> Promise
// holdMs is a test hook: the child sleeps that long after the go, so that tests can kill its
// parent (or tear its environment down) while it is alive.
Napi::Value CloneNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::unique_ptr<CloneOp> op(new CloneOp());
  Napi::Array r = info[0].As<Napi::Array>();
  Napi::Array v = info[1].As<Napi::Array>();
  uint32_t n = r.Length();
  op->rels.resize(n);
  op->vals.resize(n);
  op->isWrite.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    op->rels[i] = BytesOf(r.Get(i));
    Napi::Value x = v.Get(i);
    op->isWrite[i] = x.IsString();
    if (x.IsString()) op->vals[i] = BytesOf(x);
  }
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array u = info[2].As<Napi::Array>();
    op->user = true;
    op->uid = u.Get(0u).As<Napi::Number>().Uint32Value();
    op->gid = u.Get(1u).As<Napi::Number>().Uint32Value();
  }
  if (info.Length() > 3 && info[3].IsNumber())
    op->holdMs = info[3].As<Napi::Number>().Uint32Value();
  return Threads::Get(env)->Run(env, op.release(), "netns-clone");
}

}  // namespace

void InitClone(Napi::Env env, Napi::Object exports) {
  exports.Set("cloneNetns", Napi::Function::New(env, CloneNetns, "cloneNetns"));
}

}  // namespace netns
