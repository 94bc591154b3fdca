#include "plugin/companion_launch.h"

#include <dlfcn.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "src/common/process_spawn.h"
#include "tkmprom_version.h"

namespace tkmprom {
namespace {

constexpr char kCompanionName[] = "tkmprom-companion";

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// The folder the loaded tkmprom.so is in, "" if unknown.
std::string PluginFolder() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&FindCompanion), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return "";
  std::string path(resolved);
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

int64_t MonotonicMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

std::string FindCompanion(const Config& config, std::string* path) {
  if (!config.companion_path.empty()) {
    if (IsExecutableFile(config.companion_path)) {
      *path = config.companion_path;
      return "";
    }
    return "tkmprom: invalid value '" + config.companion_path +
           "' for plugin_opt_companion_path; accepted: the absolute path of the " + kCompanionName +
           " executable (" +
           (access(config.companion_path.c_str(), F_OK) != 0 ? std::strerror(errno)
                                                             : "not an executable file") +
           ")";
  }
  const std::string folder = PluginFolder();
  const std::string beside = folder.empty() ? "" : folder + "/" + kCompanionName;
  if (!beside.empty() && IsExecutableFile(beside)) {
    *path = beside;
    return "";
  }
  if (IsExecutableFile(TKMPROM_COMPANION_INSTALL_PATH)) {
    *path = TKMPROM_COMPANION_INSTALL_PATH;
    return "";
  }
  return std::string("tkmprom: cannot find ") + kCompanionName + " beside the plugin (" +
         (beside.empty() ? "unknown folder" : beside) + ") nor at " +
         TKMPROM_COMPANION_INSTALL_PATH + "; install it or set plugin_opt_companion_path";
}

pid_t StartSupervisor(const LaunchResources& r, int ready_fd, std::string* error) {
  std::vector<std::string> args = {"--supervise", "--parent=" + std::to_string(getpid()),
                                   "--ring-bytes=" + std::to_string(r.ring_bytes),
                                   "--mosquitto-version=" + r.mosquitto_version};
  if (ready_fd >= 0) args.push_back("--ready");
  std::vector<int> fds = {r.options_fd, r.ring_fd, r.listen_fd, r.log_fd, ready_fd};
  return SpawnChild(r.companion_path, args, fds, error);
}

std::string AwaitReady(int fd, int timeout_ms) {
  std::string answer;
  const int64_t deadline = MonotonicMillis() + timeout_ms;
  for (;;) {
    const int64_t left = deadline - MonotonicMillis();
    if (left <= 0) {
      return "tkmprom: the companion did not start within " + std::to_string(timeout_ms / 1000) +
             " s";
    }
    pollfd p{fd, POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char buf[1024];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n > 0 && answer.size() < 4096) answer.append(buf, static_cast<size_t>(n));
    if (n > 0) continue;
    break;  // EOF (or an error): the companion said all it will say
  }
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  if (answer == "ready") return "";
  if (answer.rfind("error ", 0) == 0) {
    // Printable only: the line goes into the broker's log.
    std::string line = answer.substr(6, 1000);
    for (char& c : line) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    }
    return line;
  }
  return "tkmprom: the companion exited before it was ready (see the lines above)";
}

}  // namespace tkmprom
