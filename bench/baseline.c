// The physical floor for `npm run bench`: the same syscalls the library makes, from C.
//
// Built in the run with `cc -O2` into a temporary directory (never committed). It makes its
// own network namespace (unshare(CLONE_NEWNET) on a short-lived thread, so the main thread
// never moves except for the measured switches), sets a read key there to a value the host
// does not have, measures, checks every value, and lets the namespace die with its fd.
//
//   baseline CASE[,CASE...] ITERS   -> one JSON object: ns per op for each case asked for
//
// The bench runs each C case right next to the library row doing the same work, so that
// both see the same machine load.
//
// Cases (the value is checked on every op; a wrong value exits 2):
//   setns_pair       setns(target) + setns(back)
//   oneshot_read     setns(target) -> open -> read -> close -> setns(back)
//   oneshot_write    setns(target) -> open -> write -> close -> setns(back)
//   oneshot_set      setns(target) -> open(RDWR) -> pwrite -> pread -> close -> setns(back)
//                    (what the library's set() does: it reads the value back)
//   cached_pread     pread on an fd opened inside once
//   cached_pwrite    pwrite + pread on an fd opened inside once (the handle's write())
//   walk_all         setns -> read every file under /proc/sys/net -> setns back (getAll floor)
//   cached_pass      pread every file under /proc/sys/net on fds opened inside once, one pass
//                    (the snapshot handle's refresh floor; the opening walk is not timed)
//   worker_rt        a round trip to a worker thread (mutex + condvar each way) that does
//                    oneshot_read's work (setns -> open -> read -> close -> setns back): the
//                    floor of a Promise form with 1 in flight
//   create_ns        unshare(CLONE_NEWNET) + open ns/net, on a thread
//   walk_named       walk_all of each namespace named on the command line (paths after
//                    ITERS, e.g. /run/netns/X): ns per namespace walked (the audit's floor:
//                    the same namespaces, as cold or warm in the kernel's caches as ours);
//                    also prints namedFiles, the files of the last one
//   keys_pass        the keys of $BASELINE_KEYS (paths below /proc/sys/net, comma-separated)
//                    opened once inside each namespace named on the command line, then one
//                    pass of pread over all those fds: ns per pass (netns-exporter's floor:
//                    one scrape of those keys in those namespaces)
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_KEY "/proc/sys/net/core/somaxconn"
#define READ_VAL "4321\n"
#define WRITE_KEY "/proc/sys/net/ipv4/tcp_keepalive_time"

static int target = -1, home = -1;

static void die(const char* what) {
  fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void wrong(const char* what, const char* got, size_t n) {
  fprintf(stderr, "baseline: wrong value in %s: got '%.*s'\n", what, (int)n, got);
  exit(2);
}

static double clock_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// A case's timer: wall time, and the process's CPU time (every thread) over the same loop.
static double t0, cpu0;
static void start(void) {
  cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  t0 = clock_ns(CLOCK_MONOTONIC);
}

static void enter(void) {
  if (setns(target, CLONE_NEWNET) != 0) die("setns(target)");
}
static void leave(void) {
  if (setns(home, CLONE_NEWNET) != 0) {
    fprintf(stderr, "baseline: cannot switch back: %s\n", strerror(errno));
    abort();
  }
}

static void* make_ns(void* arg) {
  int* out = arg;
  if (unshare(CLONE_NEWNET) != 0) {
    *out = -errno;
    return NULL;
  }
  *out = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*out < 0) *out = -errno;
  return NULL;
}

static int new_ns(void) {
  pthread_t t;
  int fd = -1;
  if (pthread_create(&t, NULL, make_ns, &fd) != 0) die("pthread_create");
  pthread_join(t, NULL);
  if (fd < 0) {
    errno = -fd;
    die("unshare(CLONE_NEWNET)");
  }
  return fd;
}

static size_t walk(int dfd, int depth) {
  DIR* d = fdopendir(dfd);
  if (!d) die("fdopendir");
  size_t n = 0;
  char buf[4096];
  struct dirent* de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    if (de->d_type == DT_DIR) {
      int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (sub >= 0 && depth < 16)
        n += walk(sub, depth + 1);
      else if (sub >= 0)
        close(sub);
      continue;
    }
    int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (pread(fd, buf, sizeof buf, 0) >= 0) n++;
    close(fd);
  }
  closedir(d);
  return n;
}

// walk() that keeps every file's fd open (appended to *fds) instead of closing it.
static void walk_keep(int dfd, int depth, int** fds, size_t* n, size_t* cap) {
  DIR* d = fdopendir(dfd);
  if (!d) die("fdopendir");
  struct dirent* de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    if (de->d_type == DT_DIR) {
      int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (sub >= 0 && depth < 16)
        walk_keep(sub, depth + 1, fds, n, cap);
      else if (sub >= 0)
        close(sub);
      continue;
    }
    int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    if (*n == *cap) {
      *cap = *cap ? *cap * 2 : 1024;
      *fds = realloc(*fds, *cap * sizeof(int));
      if (!*fds) die("realloc");
    }
    (*fds)[(*n)++] = fd;
  }
  closedir(d);
}

// worker_rt: one request at a time, handed over with a mutex and a condvar each way.
static pthread_mutex_t rt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rt_req = PTHREAD_COND_INITIALIZER, rt_done = PTHREAD_COND_INITIALIZER;
static int rt_pending, rt_finished, rt_stop;
static ssize_t rt_n;
static char rt_buf[4096];

static void* rt_worker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&rt_mu);
  for (;;) {
    while (!rt_pending && !rt_stop) pthread_cond_wait(&rt_req, &rt_mu);
    if (rt_stop) break;
    rt_pending = 0;
    pthread_mutex_unlock(&rt_mu);
    enter();
    int fd = open(READ_KEY, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, rt_buf, sizeof rt_buf);
    if (fd >= 0) close(fd);
    leave();
    pthread_mutex_lock(&rt_mu);
    rt_n = n;
    rt_finished = 1;
    pthread_cond_signal(&rt_done);
  }
  pthread_mutex_unlock(&rt_mu);
  return NULL;
}

static int wanted(const char* list, const char* name) {
  size_t n = strlen(name);
  for (const char* p = list; (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: baseline CASE[,CASE...] ITERS [NSPATH...]\n");
    return 64;
  }
  const char* cases = argv[1];
  long iters = atol(argv[2]);
  if (iters < 1) iters = 1;
  char buf[4096];
  int fd;
  static const char* vals[2] = {"7200\n", "7201\n"};

  home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("open home ns");
  target = new_ns();

  // Prepare: the read key gets a value the host does not have, so a read in the wrong
  // namespace is caught.
  enter();
  fd = open(READ_KEY, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "4321\n", 5) != 5) die("prepare " READ_KEY);
  close(fd);
  leave();

  printf("{\"iters\":%ld", iters);
// Each case prints its wall time per op, and beside it ("NAME_cpu") its CPU time per op: on a
// loaded machine CPU time drifts much less than wall time.
#define REPORT(name, ops)                                                      \
  do {                                                                         \
    double wall_ = (clock_ns(CLOCK_MONOTONIC) - t0) / (double)(ops);           \
    double cpu_ = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)(ops); \
    printf(",\"%s\":%.1f,\"%s_cpu\":%.1f", name, wall_, name, cpu_);           \
  } while (0)

  if (wanted(cases, "setns_pair")) {
    start();
    for (long i = 0; i < iters; i++) {
      enter();
      leave();
    }
    REPORT("setns_pair", iters);
  }

  if (wanted(cases, "oneshot_read")) {
    start();
    for (long i = 0; i < iters; i++) {
      enter();
      fd = open(READ_KEY, O_RDONLY | O_CLOEXEC);
      if (fd < 0) die("open " READ_KEY);
      ssize_t n = read(fd, buf, sizeof buf);
      close(fd);
      leave();
      if (n != 5 || memcmp(buf, READ_VAL, 5) != 0)
        wrong("oneshot_read", buf, n < 0 ? 0 : (size_t)n);
    }
    REPORT("oneshot_read", iters);
  }

  if (wanted(cases, "oneshot_write")) {
    start();
    for (long i = 0; i < iters; i++) {
      const char* v = vals[i & 1];
      enter();
      fd = open(WRITE_KEY, O_WRONLY | O_CLOEXEC);
      if (fd < 0) die("open " WRITE_KEY);
      ssize_t n = write(fd, v, 5);
      close(fd);
      leave();
      if (n != 5) die("write " WRITE_KEY);
    }
    REPORT("oneshot_write", iters);
  }

  // write + read back on the same fd (what the library's set() does)
  if (wanted(cases, "oneshot_set")) {
    start();
    for (long i = 0; i < iters; i++) {
      const char* v = vals[i & 1];
      enter();
      fd = open(WRITE_KEY, O_RDWR | O_CLOEXEC);
      if (fd < 0) die("open " WRITE_KEY);
      ssize_t w = pwrite(fd, v, 5, 0);
      ssize_t n = pread(fd, buf, sizeof buf, 0);
      close(fd);
      leave();
      if (w != 5 || n != 5 || memcmp(buf, v, 5) != 0)
        wrong("oneshot_set", buf, n < 0 ? 0 : (size_t)n);
    }
    REPORT("oneshot_set", iters);
  }

  if (wanted(cases, "cached_pread") || wanted(cases, "cached_pwrite")) {
    enter();
    int cfd = open(READ_KEY, O_RDONLY | O_CLOEXEC);
    int wfd = open(WRITE_KEY, O_RDWR | O_CLOEXEC);
    leave();
    if (cfd < 0 || wfd < 0) die("open cached");
    if (wanted(cases, "cached_pread")) {
      start();
      for (long i = 0; i < iters; i++) {
        ssize_t n = pread(cfd, buf, sizeof buf, 0);
        if (n != 5 || memcmp(buf, READ_VAL, 5) != 0)
          wrong("cached_pread", buf, n < 0 ? 0 : (size_t)n);
      }
      REPORT("cached_pread", iters);
    }
    if (wanted(cases, "cached_pwrite")) {
      start();
      for (long i = 0; i < iters; i++) {
        const char* v = vals[i & 1];
        ssize_t w = pwrite(wfd, v, 5, 0);
        ssize_t n = pread(wfd, buf, sizeof buf, 0);
        if (w != 5 || n != 5 || memcmp(buf, v, 5) != 0)
          wrong("cached_pwrite", buf, n < 0 ? 0 : (size_t)n);
      }
      REPORT("cached_pwrite", iters);
    }
    close(cfd);
    close(wfd);
  }

  // full walk (the floor for getAll)
  if (wanted(cases, "walk_all")) {
    size_t files = 0;
    start();
    for (long i = 0; i < iters; i++) {
      enter();
      int d = open("/proc/sys/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (d < 0) die("open /proc/sys/net");
      size_t n = walk(d, 0);
      leave();
      if (files && n != files) {
        fprintf(stderr, "baseline: walk_all read %zu files, before %zu\n", n, files);
        exit(2);
      }
      files = n;
    }
    REPORT("walk_all", iters);
    if (files < 100) {
      fprintf(stderr, "baseline: walk_all read only %zu files\n", files);
      exit(2);
    }
    printf(",\"walkFiles\":%zu", files);
  }

  if (wanted(cases, "cached_pass")) {
    int* fds = NULL;
    size_t nfds = 0, cap = 0;
    enter();
    int d = open("/proc/sys/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) die("open /proc/sys/net");
    walk_keep(d, 0, &fds, &nfds, &cap);
    leave();
    size_t ok = 0;
    start();
    for (long i = 0; i < iters; i++) {
      ok = 0;
      for (size_t k = 0; k < nfds; k++)
        if (pread(fds[k], buf, sizeof buf, 0) >= 0) ok++;
    }
    REPORT("cached_pass", iters);
    if (ok < 100) {
      fprintf(stderr, "baseline: cached_pass read only %zu files\n", ok);
      exit(2);
    }
    printf(",\"passFds\":%zu", nfds);
    for (size_t k = 0; k < nfds; k++) close(fds[k]);
    free(fds);
  }

  if (wanted(cases, "worker_rt")) {
    pthread_t w;
    if (pthread_create(&w, NULL, rt_worker, NULL) != 0) die("pthread_create");
    start();
    for (long i = 0; i < iters; i++) {
      pthread_mutex_lock(&rt_mu);
      rt_pending = 1;
      rt_finished = 0;
      pthread_cond_signal(&rt_req);
      while (!rt_finished) pthread_cond_wait(&rt_done, &rt_mu);
      ssize_t n = rt_n;
      pthread_mutex_unlock(&rt_mu);
      if (n != 5 || memcmp(rt_buf, READ_VAL, 5) != 0)
        wrong("worker_rt", rt_buf, n < 0 ? 0 : (size_t)n);
    }
    REPORT("worker_rt", iters);
    pthread_mutex_lock(&rt_mu);
    rt_stop = 1;
    pthread_cond_signal(&rt_req);
    pthread_mutex_unlock(&rt_mu);
    pthread_join(w, NULL);
  }

  if (wanted(cases, "walk_named")) {
    int n = argc - 3;
    if (n < 1) {
      fprintf(stderr, "baseline: walk_named needs namespace paths\n");
      exit(64);
    }
    int* nsfd = malloc(sizeof(int) * n);
    if (!nsfd) die("malloc");
    for (int k = 0; k < n; k++)
      if ((nsfd[k] = open(argv[3 + k], O_RDONLY | O_CLOEXEC)) < 0) die(argv[3 + k]);
    size_t files = 0;
    start();
    for (long i = 0; i < iters; i++)
      for (int k = 0; k < n; k++) {
        if (setns(nsfd[k], CLONE_NEWNET) != 0) die("setns(named)");
        int d = open("/proc/sys/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) die("open /proc/sys/net");
        files = walk(d, 0);
        leave();
      }
    REPORT("walk_named", (double)iters * n);
    if (files < 100) {
      fprintf(stderr, "baseline: walk_named read only %zu files\n", files);
      exit(2);
    }
    printf(",\"namedFiles\":%zu", files);  // of the last namespace named
    for (int k = 0; k < n; k++) close(nsfd[k]);
    free(nsfd);
  }

  if (wanted(cases, "keys_pass")) {
    const char* list = getenv("BASELINE_KEYS");
    int n = argc - 3;
    if (!list || !*list || n < 1) {
      fprintf(stderr, "baseline: keys_pass needs BASELINE_KEYS and namespace paths\n");
      exit(64);
    }
    size_t nkeys = 1;
    for (const char* p = list; *p; p++) nkeys += *p == ',';
    int* fds = malloc(sizeof(int) * nkeys * n);
    if (!fds) die("malloc");
    size_t nfds = 0;
    char path[4096];
    for (int k = 0; k < n; k++) {
      int nsfd = open(argv[3 + k], O_RDONLY | O_CLOEXEC);
      if (nsfd < 0) die(argv[3 + k]);
      if (setns(nsfd, CLONE_NEWNET) != 0) die("setns(named)");
      for (const char* p = list; *p;) {
        const char* e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        snprintf(path, sizeof path, "/proc/sys/net/%.*s", (int)len, p);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) die(path);
        fds[nfds++] = fd;
        p += len + (e != NULL);
      }
      leave();
      close(nsfd);
    }
    size_t ok = 0;
    start();
    for (long i = 0; i < iters; i++) {
      ok = 0;
      for (size_t k = 0; k < nfds; k++)
        if (pread(fds[k], buf, sizeof buf, 0) > 0) ok++;
    }
    REPORT("keys_pass", iters);
    if (ok != nfds) {
      fprintf(stderr, "baseline: keys_pass read %zu of %zu keys\n", ok, nfds);
      exit(2);
    }
    printf(",\"keysFds\":%zu", nfds);
    for (size_t k = 0; k < nfds; k++) close(fds[k]);
    free(fds);
  }

  // namespace creation (each made on a fresh thread, then its fd closed)
  if (wanted(cases, "create_ns")) {
    int* fds = malloc(sizeof(int) * iters);
    if (!fds) die("malloc");
    start();
    for (long i = 0; i < iters; i++) fds[i] = new_ns();
    REPORT("create_ns", iters);
    for (long i = 0; i < iters; i++) close(fds[i]);
    free(fds);
  }

  close(target);
  printf("}\n");
  return 0;
}
