// The addon-owned thread that runs Promise-form work.
//
// Node's libuv pool is never used for namespace switches. Instead each environment owns one
// worker thread (started on first use). It takes the queued jobs in batches; for every run of
// consecutive jobs for the same namespace it switches in once (Inside), does the work, and
// switches back before it waits for more work. If the switch back fails the thread retires
// itself (it exits, never to be reused) and a fresh one is started for the jobs that follow.
// Completions return to JavaScript through the environment's thread-safe function (threads.h),
// many per event-loop wake-up. Work that may wait long does not come here: Threads::Run.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "threads.h"

namespace netns {

// Test hook: the executor's spin after a batch, in ns (-1: NETNS_EXECUTOR_SPIN_US or 50 µs).
extern std::atomic<long> g_spinOverrideNs;

// A Promise-form job: Work() runs on the executor thread, inside the target namespace.
struct Job : Task {
  int nsfd = -1;            // private dup of the target namespace fd, or -1 = the thread's home
  int enterErr = 0;         // setns into the target failed with this errno
  bool wayBackErr = false;  // enterErr is from the way-back check (CheckWayBack), not the target
  ~Job() override;
  // The switch's error, or Value().
  Napi::Value Result(Napi::Env env, bool& reject) final;
  // Runs on the JS thread. Sets `reject` when the value is an error.
  virtual Napi::Value Value(Napi::Env env, bool& reject) = 0;
};

class Executor {
 public:
  // The environment's executor, created on first use.
  static Executor* Get(Napi::Env env);
  // Queue `job` for `targetFd` (the caller's fd; duplicated here, -1 = where the JS thread
  // is now). Returns the Promise for it.
  Napi::Value Submit(Napi::Env env, Job* job, int targetFd);

 private:
  Executor() = default;
  static void Shutdown(void* arg);
  void StartThreadLocked();
  void Loop();
  size_t RunBatch(std::vector<Job*>& batch, bool& healthy);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without mu_ (the bounded spin)
  bool stopping_ = false;
  int live_ = 0;  // executor threads alive
  // Every thread ever started and not yet joined. Threads are never detached: when a worker
  // exits, Node unloads the addon, so every thread must have left addon code before Shutdown
  // returns. A retired thread is joined at the next start or at shutdown.
  std::vector<std::thread> threads_;
  int idle_ = 0;   // of those, waiting for work
  int home_ = -1;  // the namespace executor threads live in between jobs
  Threads* facility_ =
      nullptr;  // the environment's threads.h: tracks the Promises, delivers results
};

}  // namespace netns
