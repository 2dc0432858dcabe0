// The parent's side of the children the addon clones (clone.cc's child, the rootless helper
// and the commands it starts): their user-namespace maps and their reaping. Normal C++: runs
// in the parent, on the JS thread or a thread of the addon's own.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "netns.h"

namespace netns {

static int WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : (size_t)n != text.size() ? EIO : 0;
  close(fd);
  return err;
}

int WriteIdMaps(pid_t pid, uint32_t uid, uint32_t gid, std::string* path) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  *path = base + "setgroups";
  int err = WriteProcFile(*path, "deny");
  if (err && err != ENOENT) return err;
  *path = base + "uid_map";
  if ((err = WriteProcFile(*path, "0 " + std::to_string(uid) + " 1\n"))) return err;
  *path = base + "gid_map";
  if ((err = WriteProcFile(*path, "0 " + std::to_string(gid) + " 1\n"))) return err;
  path->clear();
  return 0;
}

int WaitChild(pid_t pid, int pidfd, siginfo_t* si, int options) {
  for (;;) {
    memset(si, 0, sizeof *si);
    int r =
        pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED | __WALL | options) : -1;
    // No P_PIDFD (Linux < 5.4): by pid. The child is ours and unreaped, so its pid is not reused.
    if (r < 0 && (pidfd < 0 || errno == EINVAL))
      r = waitid(P_PID, (id_t)pid, si, WEXITED | __WALL | options);
    if (r == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace netns
