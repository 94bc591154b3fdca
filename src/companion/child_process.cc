#include "src/companion/child_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "src/common/process_spawn.h"

namespace tkmprom {
namespace {

bool ParseUnsigned(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseChildArgs(int argc, char** argv, ChildArgs* out, std::string* error) {
  bool has_role = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    uint64_t n = 0;
    if (a == "--supervise" || a == "--serve") {
      out->role = a == "--supervise" ? ChildArgs::Role::kSupervisor : ChildArgs::Role::kCompanion;
      has_role = true;
    } else if (a.rfind("--parent=", 0) == 0 && ParseUnsigned(a.substr(9), &n) && n > 1 &&
               n <= INT_MAX) {
      out->parent = static_cast<pid_t>(n);
    } else if (a.rfind("--ring-bytes=", 0) == 0 && ParseUnsigned(a.substr(13), &n)) {
      out->ring_bytes = n;
    } else if (a.rfind("--mosquitto-version=", 0) == 0) {
      out->mosquitto_version = std::string(a.substr(20, 32));
    } else if (a == "--ready") {
      out->ready = true;
    } else if (a.rfind("--companion=/", 0) == 0) {
      out->companion_path = std::string(a.substr(12));
    } else {
      *error = "unknown argument '" + std::string(a.substr(0, 64)) + "'";
      return false;
    }
  }
  if (!has_role || out->parent == 0 || out->ring_bytes == 0) {
    *error =
        "tkmprom-companion is started by the tkmprom plugin inside mosquitto, not by hand "
        "(missing --supervise/--serve, --parent or --ring-bytes)";
    return false;
  }
  return true;
}

std::vector<std::string> ChildArgv(const ChildArgs& args) {
  std::vector<std::string> argv = {
      args.role == ChildArgs::Role::kSupervisor ? "--supervise" : "--serve",
      "--parent=" + std::to_string(args.parent), "--ring-bytes=" + std::to_string(args.ring_bytes),
      "--mosquitto-version=" + args.mosquitto_version};
  if (args.ready) argv.push_back("--ready");
  return argv;
}

std::string OwnExecutable() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  return n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
}

void PrepareChild(pid_t parent, const char* name) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  // posix_spawn closed everything above the inheritance already; this is
  // for a process started some other way.
  close_range(kChildFdEnd, ~0U, 0);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_NAME, name);
}

}  // namespace tkmprom
