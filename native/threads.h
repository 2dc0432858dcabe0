// The threads the addon owns: one facility per environment (the anchor: node-pty's waiter
// thread and ThreadSafeFunction, src/unix/pty.cc).
//
//  * Run(): work that may wait without bound (a clone child's report, a rootless helper's
//    reply, a child's exit) runs on a thread of its own, never on the JS thread, the libuv
//    pool or the executor's queue. The thread ends with its work.
//  * Deliver(): finished work, from any addon thread (these and the executor's), goes back to
//    the JS thread through the environment's one thread-safe function, which settles each
//    task's Promise (Settle).
//  * RunOnFreshThread(): a short synchronous job on a thread that is thrown away afterwards
//    (a thread that unshares ends in a namespace of its own).
//
// Threads are joined, never detached: when a Worker exits, Node unloads the addon, and a
// thread still running addon code would then crash the process. At the environment's cleanup
// every live task is aborted (Task::Abort: each kind of work knows how to stop its own wait)
// and every thread is joined before the cleanup returns. A thread that switches namespaces does so
// with Inside() (netns.h); one that cannot switch back is never reused, it ends (CNI pkg/ns Do()).
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace netns {

// A piece of work that ends by settling a Promise. Owned by the facility from Track() on:
// by the thread running it, then by the JS thread (or the thread-safe function's finalizer
// when the environment is going away), which deletes it.
struct Task {
  napi_deferred deferred = nullptr;
  Task* next = nullptr;  // finished tasks travel to JavaScript in chains (one per Deliver)
  // The task failed before or instead of Result(): no thread (pthread_create), or Work() ran
  // out of memory (std::bad_alloc: ENOMEM, "malloc"). The Promise is rejected with it.
  int workErr = 0;
  const char* workSyscall = "";
  // Run(): set, and then Abort() called, when the environment is going away.
  std::atomic<bool> aborted{false};

  virtual ~Task() = default;
  // On an addon thread.
  virtual void Work() = 0;
  // On the JS thread. Sets `reject` when the value is an error.
  virtual Napi::Value Result(Napi::Env env, bool& reject) = 0;
  // Run(): make a Work() that is still waiting return soon. Called once, from the cleanup hook,
  // with `aborted` already set; must be safe while Work() runs.
  virtual void Abort() {}
  // Work(), with std::bad_alloc turned into workErr (an exception must never leave an addon
  // thread; any other one is a bug, and ends the process here, loudly).
  void RunWork() noexcept;
};

class Threads;
void CallJsTrampoline(Napi::Env env, Napi::Function, Threads* self, Task* chain);
using ThreadsTsfn = Napi::TypedThreadSafeFunction<Threads, Task, CallJsTrampoline>;

class Threads {
 public:
  // The environment's facility, created on first use.
  static Threads* Get(Napi::Env env);
  // Make `task`'s Promise and count it in flight (the event loop stays alive until it is
  // settled). On failure deletes the task and throws.
  Napi::Value Track(Napi::Env env, Task* task);
  // Track(task), then run it on a thread of its own called `name` (at most 15 bytes).
  Napi::Value Run(Napi::Env env, Task* task, const char* name);
  // From any addon thread: hand a chain of finished, tracked tasks to the JS thread.
  void Deliver(Task* chain);
  // On the JS thread: settle the task's Promise and delete it.
  void Settle(Napi::Env env, Task* task);

 private:
  Threads() = default;
  static void Shutdown(void* arg);
  void Untrack(Napi::Env env);

  struct Solo {
    std::thread thread;
    Task* task = nullptr;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<Solo> live_;               // Run() threads whose task has not been delivered
  std::vector<std::thread> finished_;  // their handles once done: joined at the next Run()
                                       // and at cleanup
  ThreadsTsfn tsfn_;
  size_t inflight_ = 0;  // JS thread only: tracked tasks not yet settled
};

// Run `fn` on a fresh thread called `name` and wait for it to end. 0, or the errno of a
// thread that could not be started.
int RunOnFreshThread(const char* name, const std::function<void()>& fn);

}  // namespace netns
