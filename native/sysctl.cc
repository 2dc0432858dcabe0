// /proc/sys/net primitives: read, write+read-back, batches and a full walk, each done inside
// a target namespace within one call (sync on the JS thread, or as a Promise on the executor).
// Keys arrive as validated paths relative to /proc/sys/net; values as the exact bytes to write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <new>
#include <cstring>
#include <string>
#include <vector>

#include "executor.h"
#include "netns.h"
#include "sysctl_core.h"

namespace netns {

namespace {

struct Outcome {
  int err = 0;               // errno of the failing step, 0 on success
  const char* syscall = "";  // the failing step
  bool hasValue = false;     // value holds the (read-back) contents
  std::string value;
};

void DoRead(const std::string& rel, Outcome& o) {
  int fd = OpenConfined(rel.c_str(), O_RDONLY);
  if (fd < 0) {
    o.err = -fd;
    o.syscall = "open";
    return;
  }
  int e = ReadSmall(fd, o.value);
  close(fd);
  if (e) {
    o.err = e;
    o.syscall = "read";
    return;
  }
  o.hasValue = true;
}

// Write `value` in one pwrite at offset 0, all or nothing. The kernel is not: a vector key
// stores each number as it parses it, so "8192 16384 99999999999999" on tcp_rmem fails with
// EINVAL after storing the first two; and "1 2 3" on a one-number key stores 1, stops, and
// reports a short write. Either way the key would hold a value nobody asked for. So the old
// value is read first (when the fd is readable) and written back after a failed or short
// write if the key changed; a short write is reported as EINVAL. Returns 0 or errno.
int WriteWhole(int fd, const std::string& value, bool readable) {
  // Only a value of several fields can be taken in part (the kernel parses and stores field
  // by field); a single field is parsed whole before anything is stored. So only then is the
  // old value worth a read.
  bool several = value.find_first_of(" \t") != std::string::npos;
  std::string old;
  bool haveOld = several && readable && ReadSmall(fd, old) == 0;
  ssize_t n;
  do {
    n = pwrite(fd, value.data(), value.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n >= 0 && (size_t)n == value.size()) return 0;
  int err = n < 0 ? errno : EINVAL;
  std::string now;
  if (haveOld && ReadSmall(fd, now) == 0 && now != old) {
    ssize_t r;
    do {
      r = pwrite(fd, old.data(), old.size(), 0);
    } while (r < 0 && errno == EINTR);
  }
  return err;
}

// One write() of the whole value at offset 0 on a fresh fd, then a read-back from the same
// fd (pread at 0 asks the kernel afresh). Write-only keys get no read-back.
void DoWrite(const std::string& rel, const std::string& value, Outcome& o) {
  bool readable = false;
  int root = NetRoot();
  int fd = root < 0 ? root : core::OpenForWrite(root, rel.c_str(), &readable);
  if (fd < 0) {
    o.err = -fd;
    o.syscall = "open";
    return;
  }
  int e = WriteWhole(fd, value, readable);
  if (e) {
    o.err = e;
    o.syscall = "write";
    close(fd);
    return;
  }
  if (readable) {
    int e = ReadSmall(fd, o.value);
    if (e == 0) o.hasValue = true;  // a failed read-back is not a failed write
  }
  close(fd);
}

Napi::Value OutcomeValue(Napi::Env env, const Outcome& o, const std::string& rel) {
  if (o.err) return ErrnoRecord(env, o.err, o.syscall, "/proc/sys/net/" + rel);
  if (!o.hasValue) return env.Null();
  return StringOf(env, o.value);
}

// The addon's walk sink (see core::WalkTree): the packed walk grows in one malloc'd buffer.
// Room() hands out uninitialised space (a std::string would zero 4 KiB per file read: that
// memset was most of a walk's user time). Kept fds (kWalkKeep) are collected in `kept`.
struct PackedSink {
  char* p = nullptr;
  size_t size = 0, cap = 0;
  size_t pending = 0;
  std::vector<int> kept;
  PackedSink() = default;
  PackedSink(const PackedSink&) = delete;
  PackedSink& operator=(const PackedSink&) = delete;
  ~PackedSink() {
    free(p);
    for (int fd : kept) close(fd);  // not handed over (see Release)
  }
  void Reserve(size_t n) {
    if (n <= cap) return;
    size_t c = cap ? cap : 64 * 1024;
    while (c < n) c *= 2;
    char* q = (char*)realloc(p, c);
    if (!q) throw std::bad_alloc();
    p = q;
    cap = c;
  }
  bool Begin(size_t) { return true; }
  void Put(const char* d, size_t n) {
    Reserve(size + n);
    memcpy(p + size, d, n);
    size += n;
  }
  char* Room(size_t* avail) {
    Reserve(size + core::kReadChunk);
    pending = size;
    *avail = core::kReadChunk;
    return p + size;
  }
  void Commit(size_t n) { size = pending + n; }
  size_t Size() const { return size; }
  void Truncate(size_t n) { size = n; }
  void End() {}
  void Keep(int fd) { kept.push_back(fd); }
  // The packed bytes as a JS string. Kept fds become JavaScript's (owned by the environment).
  Napi::Value Release(Napi::Env env) {
    for (int fd : kept) Own(env, fd);
    kept.clear();
    return StringOf(env, p ? p : "", size);
  }
};

// Walk `prefix` ("" = all of /proc/sys/net) into `out`, the packed walk (sysctl_core.h) that
// travels to JavaScript as one string: one string instead of ~4 N-API calls per entry makes a
// full walk (~600 keys) markedly cheaper. `bounds`: a core::WalkBounds spec, empty for none.
// Errors on the prefix itself (and a malformed spec) land in `rootErr`.
void DoWalk(const std::string& prefix, int flags, const std::string& bounds, PackedSink& out,
            Outcome& rootErr) {
  char rel[core::kRelCap];
  if (prefix.size() >= sizeof rel) {
    rootErr.err = ENAMETOOLONG;
    rootErr.syscall = "open";
    return;
  }
  core::WalkBounds wb;
  if (!bounds.empty() && !wb.Parse(bounds.data(), bounds.size())) {
    rootErr.err = EINVAL;
    rootErr.syscall = "walk";
    return;
  }
  int fd = OpenConfined(prefix.empty() ? "." : prefix.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    rootErr.err = -fd;
    rootErr.syscall = "open";
    return;
  }
  memcpy(rel, prefix.c_str(), prefix.size() + 1);
  out.Reserve(64 * 1024);
  core::WalkTree(fd, rel, prefix.size(), flags, out, bounds.empty() ? nullptr : &wb);
  close(fd);
}

// Batch: values[i] null = read rels[i]; a string = write it and read back.
void DoBatch(const std::vector<std::string>& rels, const std::vector<std::string>& vals,
             const std::vector<bool>& isWrite, std::vector<Outcome>& out, bool stopOnError) {
  out.resize(rels.size());
  for (size_t i = 0; i < rels.size(); i++) {
    if (isWrite[i])
      DoWrite(rels[i], vals[i], out[i]);
    else
      DoRead(rels[i], out[i]);
    if (stopOnError && out[i].err) {
      out.resize(i + 1);
      return;
    }
  }
}

Napi::Value BatchValue(Napi::Env env, const std::vector<std::string>& rels,
                       const std::vector<Outcome>& out) {
  Napi::Array a = Napi::Array::New(env, out.size());
  for (size_t i = 0; i < out.size(); i++) a.Set(i, OutcomeValue(env, out[i], rels[i]));
  return a;
}

void ParseBatchArgs(const Napi::CallbackInfo& info, std::vector<std::string>& rels,
                    std::vector<std::string>& vals, std::vector<bool>& isWrite) {
  Napi::Array r = info[1].As<Napi::Array>();
  Napi::Array v = info[2].As<Napi::Array>();
  uint32_t n = r.Length();
  rels.resize(n);
  vals.resize(n);
  isWrite.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    rels[i] = BytesOf(r.Get(i));
    Napi::Value x = v.Get(i);
    isWrite[i] = x.IsString();
    if (isWrite[i]) vals[i] = BytesOf(x);
  }
}

// What a sync call was doing, for the message of a failed switch back (InsideJs: the work runs
// inside namespace `nsfd`, or where the JS thread already is when it is -1).
constexpr const char* kDuring = "a /proc/sys/net operation";

int NsArg(const Napi::CallbackInfo& info) { return info[0].As<Napi::Number>().Int32Value(); }

// ---- sync ----

Napi::Value SysctlRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string rel = BytesOf(info[1]);
  Outcome o;
  InsideJs(env, NsArg(info), kDuring, [&] { DoRead(rel, o); });
  if (o.err) ThrowErrno(env, o.err, o.syscall, "/proc/sys/net/" + rel);
  return StringOf(env, o.value);
}

Napi::Value SysctlWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string rel = BytesOf(info[1]);
  std::string val = BytesOf(info[2]);
  Outcome o;
  InsideJs(env, NsArg(info), kDuring, [&] { DoWrite(rel, val, o); });
  if (o.err) ThrowErrno(env, o.err, o.syscall, "/proc/sys/net/" + rel);
  return o.hasValue ? Napi::Value(StringOf(env, o.value)) : env.Null();
}

Napi::Value SysctlBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> rels, vals;
  std::vector<bool> isWrite;
  ParseBatchArgs(info, rels, vals, isWrite);
  bool stop = info.Length() > 3 && info[3].ToBoolean();
  std::vector<Outcome> out;
  InsideJs(env, NsArg(info), kDuring, [&] { DoBatch(rels, vals, isWrite, out, stop); });
  return BatchValue(env, rels, out);
}

// The optional bounds spec of a walk (argument 3): a string, or absent / undefined for none.
std::string BoundsArg(const Napi::CallbackInfo& info) {
  return info.Length() > 3 && info[3].IsString() ? info[3].As<Napi::String>().Utf8Value()
                                                 : std::string();
}

Napi::Value SysctlWalk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string prefix = BytesOf(info[1]);
  int flags = info[2].As<Napi::Number>().Int32Value();
  std::string bounds = BoundsArg(info);
  PackedSink packed;
  Outcome rootErr;
  InsideJs(env, NsArg(info), kDuring, [&] { DoWalk(prefix, flags, bounds, packed, rootErr); });
  if (rootErr.err) ThrowErrno(env, rootErr.err, rootErr.syscall, "/proc/sys/net/" + prefix);
  return packed.Release(env);
}

// sysctlOpen(nsfd, rel, access): an fd on one key, opened inside the namespace (core::OpenKey:
// access 0 read-only, 1 read-write with fallbacks). Returns [fd, access actually granted].
Napi::Value SysctlOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string rel = BytesOf(info[1]);
  int access = info[2].As<Napi::Number>().Int32Value();
  int fd = -1, granted = 0, denied = 0;
  InsideJs(env, NsArg(info), kDuring, [&] {
    int root = NetRoot();
    fd = root < 0 ? root : core::OpenKey(root, rel.c_str(), access, &granted, &denied);
  });
  if (fd < 0) ThrowErrno(env, -fd, "open", "/proc/sys/net/" + rel);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, Own(env, fd)));
  a.Set(1u, Napi::Number::New(env, granted));
  return a;
}

// pread(fd, 4 KiB, 0) on a key fd: the kernel formats the value afresh each time.
Napi::Value FdRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string out;
  int e = ReadSmall(fd, out);
  if (e) ThrowErrno(env, e, "read");
  return StringOf(env, out);
}

// The raw N-API functions of the call area (netns.h CallArea): no argument, no result value
// (undefined), the environment's AddonData as the function's data. A Napi::Error thrown below
// becomes a JavaScript exception here (no node-addon-api wrapper catches it for us).
template <void (*F)(napi_env, AddonData*)>
napi_value AreaCall(napi_env env, napi_callback_info cbinfo) {
  void* data = nullptr;
  if (napi_get_cb_info(env, cbinfo, nullptr, nullptr, nullptr, &data) != napi_ok) return nullptr;
  try {
    F(env, static_cast<AddonData*>(data));
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  }
  return nullptr;
}

// fdPread(): pread(call.fd, readBuf, 4 KiB, 0), the byte count in call.n. TypeScript decodes
// the bytes (lib/sysctl/values.ts valueFromBytes) and reads a value that fills the buffer
// again whole (fdRead). The hottest call of the library: a handle's read().
void FdPreadArea(napi_env env, AddonData* d) {
  ssize_t n;
  do {
    n = pread(d->call.fd, d->readBuf, kReadBufSize, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(Napi::Env(env), errno, "read");
  d->call.n = (int32_t)n;
}

// sysctlReadInto(): DoRead's open and read of call.rel inside namespace call.fd, into readBuf
// (the byte count in call.n; a value that fills it is read again whole with sysctlRead).
void SysctlReadArea(napi_env napiEnv, AddonData* d) {
  Napi::Env env(napiEnv);
  size_t len = (size_t)d->call.relLen;
  if (len > kCallRelCap) ThrowErrno(env, ENAMETOOLONG, "open");
  d->call.rel[len] = 0;
  const char* rel = d->call.rel;
  int err = 0;
  const char* syscall = "open";
  ssize_t n = 0;
  InsideJs(env, d, d->call.fd, kDuring, [&] {
    int fd = OpenConfined(rel, O_RDONLY);
    if (fd < 0) {
      err = -fd;
      return;
    }
    do {
      n = pread(fd, d->readBuf, kReadBufSize, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      err = errno;
      syscall = "read";
    }
    close(fd);
  });
  if (err) ThrowErrno(env, err, syscall, std::string("/proc/sys/net/") + rel);
  d->call.n = (int32_t)n;
}

// fdReadAll(fds): pread every fd of an Int32Array (a snapshot handle's keys) from offset 0, in
// one call: one string of NUL-terminated outcomes in fd order, "=" value or "!" errno ":read"
// (the walk's outcome field, sysctl_core.h).
Napi::Value FdReadAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Int32Array fds = info[0].As<Napi::Int32Array>();
  const int32_t* f = fds.Data();
  size_t n = fds.ElementLength();
  PackedSink out;
  out.Reserve(n * 16 + 1024);
  for (size_t i = 0; i < n; i++) {
    size_t mark = out.Size();
    out.Put("=", 1);
    int err = core::ReadValue(f[i], out);
    if (err) {
      out.Truncate(mark);
      out.Put("!", 1);
      core::PutDecimal(out, (uint32_t)err);
      core::PutStr(out, ":read");
    }
    out.Put("", 1);
  }
  return out.Release(env);
}

// pwrite(fd, value, 0): one write of the whole value (restored on a short write, see
// WriteWhole; a write-only handle cannot be read, so it cannot be restored).
Napi::Value FdWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string val = BytesOf(info[1]);
  int acc = fcntl(fd, F_GETFL);
  int e = WriteWhole(fd, val, acc >= 0 && (acc & O_ACCMODE) != O_WRONLY);
  if (e) ThrowErrno(env, e, "write");
  return env.Undefined();
}

// ---- Promise forms (run on the executor thread) ----

struct BatchJob : Job {
  std::vector<std::string> rels, vals;
  std::vector<bool> isWrite;
  std::vector<Outcome> out;
  bool stop = false;
  bool single = false;  // resolve with the one value / reject with its error
  void Work() override { DoBatch(rels, vals, isWrite, out, stop); }
  Napi::Value Value(Napi::Env env, bool& reject) override {
    if (single) {
      const Outcome& o = out[0];
      Napi::Value v = OutcomeValue(env, o, rels[0]);
      reject = o.err != 0;
      return v;
    }
    return BatchValue(env, rels, out);
  }
};

// One read (getAsync): the batch's work for one key, without its four vectors.
struct ReadJob : Job {
  std::string rel;
  Outcome o;
  void Work() override { DoRead(rel, o); }
  Napi::Value Value(Napi::Env env, bool& reject) override {
    reject = o.err != 0;
    return OutcomeValue(env, o, rel);
  }
};

struct WalkJob : Job {
  std::string prefix;
  int flags = 0;
  std::string bounds;
  PackedSink packed;  // closes kept fds never handed to JavaScript (environment torn down)
  Outcome rootErr;
  void Work() override { DoWalk(prefix, flags, bounds, packed, rootErr); }
  Napi::Value Value(Napi::Env env, bool& reject) override {
    if (rootErr.err) {
      reject = true;
      return ErrnoObject(env, rootErr.err, rootErr.syscall, "/proc/sys/net/" + prefix);
    }
    return packed.Release(env);
  }
};

Napi::Value SysctlReadAsync(const Napi::CallbackInfo& info) {
  auto* job = new ReadJob();
  job->rel = BytesOf(info[1]);
  return Executor::Get(info.Env())->Submit(info.Env(), job, NsArg(info));
}

Napi::Value SysctlWriteAsync(const Napi::CallbackInfo& info) {
  auto* job = new BatchJob();
  job->rels.push_back(BytesOf(info[1]));
  job->vals.push_back(BytesOf(info[2]));
  job->isWrite.push_back(true);
  job->single = true;
  return Executor::Get(info.Env())->Submit(info.Env(), job, NsArg(info));
}

Napi::Value SysctlBatchAsync(const Napi::CallbackInfo& info) {
  auto* job = new BatchJob();
  ParseBatchArgs(info, job->rels, job->vals, job->isWrite);
  job->stop = info.Length() > 3 && info[3].ToBoolean();
  return Executor::Get(info.Env())->Submit(info.Env(), job, NsArg(info));
}

Napi::Value SysctlWalkAsync(const Napi::CallbackInfo& info) {
  auto* job = new WalkJob();
  job->prefix = BytesOf(info[1]);
  job->flags = info[2].As<Napi::Number>().Int32Value();
  job->bounds = BoundsArg(info);
  return Executor::Get(info.Env())->Submit(info.Env(), job, NsArg(info));
}

}  // namespace

void InitSysctl(Napi::Env env, Napi::Object exports) {
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("WALK_READ", (int)core::kWalkRead);
  c.Set("WALK_MODE", (int)core::kWalkMode);
  c.Set("WALK_KEEP", (int)core::kWalkKeep);
  exports.Set("sysctlRead", Napi::Function::New(env, SysctlRead, "sysctlRead"));
  exports.Set("sysctlWrite", Napi::Function::New(env, SysctlWrite, "sysctlWrite"));
  exports.Set("sysctlBatch", Napi::Function::New(env, SysctlBatch, "sysctlBatch"));
  exports.Set("sysctlWalk", Napi::Function::New(env, SysctlWalk, "sysctlWalk"));
  exports.Set("sysctlOpen", Napi::Function::New(env, SysctlOpen, "sysctlOpen"));
  exports.Set("fdRead", Napi::Function::New(env, FdRead, "fdRead"));
  AddonData* d = Data(env);
  auto area = [&](const char* name, napi_callback cb) {
    napi_value f;
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, d, &f));
    exports.Set(name, f);
  };
  area("fdPread", AreaCall<FdPreadArea>);
  area("sysctlReadInto", AreaCall<SysctlReadArea>);
  // External: the bytes belong to AddonData (freed at environment cleanup), so a detached or
  // transferred ArrayBuffer can never free what the calls write to.
  exports.Set("readBuffer", Napi::ArrayBuffer::New(env, d->readBuf, kReadBufSize));
  exports.Set("callArea", Napi::ArrayBuffer::New(env, &d->call, sizeof d->call));
  exports.Set("fdReadAll", Napi::Function::New(env, FdReadAll, "fdReadAll"));
  exports.Set("fdWrite", Napi::Function::New(env, FdWrite, "fdWrite"));
  exports.Set("sysctlReadAsync", Napi::Function::New(env, SysctlReadAsync, "sysctlReadAsync"));
  exports.Set("sysctlWriteAsync", Napi::Function::New(env, SysctlWriteAsync, "sysctlWriteAsync"));
  exports.Set("sysctlBatchAsync", Napi::Function::New(env, SysctlBatchAsync, "sysctlBatchAsync"));
  exports.Set("sysctlWalkAsync", Napi::Function::New(env, SysctlWalkAsync, "sysctlWalkAsync"));
}

}  // namespace netns
