// The addon-owned thread that runs Promise-form work.
//
// Node's libuv pool is never used for namespace switches. Instead each environment owns one
// worker thread (started on first use). It takes the queued jobs in batches; for every job
// it switches into the job's namespace (consecutive jobs for the same namespace share one
// switch), does the work, and switches back before it waits for more work. If the switch
// back fails the thread retires itself (it exits, never to be reused) and a fresh one is started for the
// jobs that follow. Completions return to JavaScript through a thread-safe function, many
// per event-loop wake-up.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace netns {

// Test hook: the executor's spin after a batch, in ns (-1: NETNS_EXECUTOR_SPIN_US or 50 µs).
extern std::atomic<long> g_spinOverrideNs;

struct Job {
  int nsfd = -1;       // private dup of the target namespace fd, or -1 = the thread's home
  int enterErr = 0;    // setns into the target failed with this errno
  bool wayBackErr = false;  // enterErr is from the way-back check (CheckWayBack), not the target
  napi_deferred deferred = nullptr;
  Job* next = nullptr;  // completions travel to JavaScript in chains (one per batch)
  virtual ~Job();
  // Runs on the executor thread, inside the target namespace.
  virtual void Work() = 0;
  // Runs on the JS thread. Sets `reject` when the value is an error.
  virtual Napi::Value Result(Napi::Env env, bool& reject) = 0;
  // SubmitOwnThread jobs: make a Work() that is still waiting return soon (environment teardown).
  virtual void Abort() {}
};

class Executor;
void CallJsTrampoline(Napi::Env env, Napi::Function, Executor* self, Job* job);
using ExecTsfn = Napi::TypedThreadSafeFunction<Executor, Job, CallJsTrampoline>;

class Executor {
 public:
  // The environment's executor, created on first use.
  static Executor* Get(Napi::Env env);
  // Queue `job` for `targetFd` (the caller's fd; duplicated here, -1 = where the JS thread
  // is now). Returns the Promise for it.
  Napi::Value Submit(Napi::Env env, Job* job, int targetFd);
  void Complete(Napi::Env env, Job* job);
  // Run `job` on a thread of its own instead of the queue, at home (no namespace switch): for
  // work that may wait long (a rootless helper's reply) and must hold up neither the JS thread
  // nor the jobs queued here. Completes through the same thread-safe function.
  Napi::Value SubmitOwnThread(Napi::Env env, Job* job);

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
  int live_ = 0;       // executor threads alive
  // Every thread ever started and not yet joined. Threads are never detached: when a worker
  // exits, Node unloads the addon, so every thread must have left addon code before Shutdown
  // returns. A retired thread is joined at the next start or at shutdown.
  std::vector<std::thread> threads_;
  int idle_ = 0;       // of those, waiting for work
  int home_ = -1;      // the namespace executor threads live in between jobs
  // Threads of SubmitOwnThread jobs; `job` is null once its Work() has returned (the thread
  // is then about to exit and is joined by the next SubmitOwnThread or at shutdown).
  struct Solo {
    std::thread thread;
    Job* job = nullptr;
  };
  std::list<Solo> solos_;
  ExecTsfn tsfn_;
  size_t inflight_ = 0;  // JS thread only
};

}  // namespace netns
