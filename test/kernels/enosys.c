// enosys: run a command as on a kernel older than 5.6 / 5.3, where openat2 (5.6), clone3 and
// pidfd_open (5.3) do not exist: a seccomp filter makes those system calls fail with ENOSYS,
// which is what such a kernel answers. The filter is inherited by every thread and child.
//
//   enosys COMMAND [ARG...]
//
// Before exec it checks that each call really fails with ENOSYS, and says so on stderr.
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../native/syscompat.h"

#define DENY(nr)                                   \
  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: enosys COMMAND [ARG...]\n");
    return 2;
  }
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      DENY(SYS_openat2),
      DENY(SYS_pidfd_open),
      DENY(SYS_clone3),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    fprintf(stderr, "enosys: cannot install the seccomp filter: %s\n", strerror(errno));
    return 1;
  }
  const struct {
    const char* name;
    long nr;
  } calls[] = {{"openat2", SYS_openat2}, {"pidfd_open", SYS_pidfd_open}, {"clone3", SYS_clone3}};
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    long r = syscall(calls[i].nr, 0, 0, 0, 0);
    if (r != -1 || errno != ENOSYS) {
      fprintf(stderr, "enosys: %s did not fail with ENOSYS (%ld, %s)\n", calls[i].name, r,
              strerror(errno));
      return 1;
    }
  }
  fprintf(stderr, "enosys: openat2, pidfd_open and clone3 fail with ENOSYS\n");
  execvp(argv[1], argv + 1);
  fprintf(stderr, "enosys: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
