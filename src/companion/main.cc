// tkmprom-companion: the supervisor (--supervise) and the companion
// (--serve) of the tkmprom plugin, started by the plugin inside mosquitto
// (src/common/process_spawn.h), never by hand. The supervisor becomes
// tkmprom-supervisor (src/companion/supervisor_main.cc) when it is beside it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/process_spawn.h"
#include "src/companion/child_process.h"
#include "src/companion/companion.h"
#include "src/companion/supervisor.h"
#include "src/ring/log_pipe.h"

namespace {

constexpr char kSupervisorName[] = "tkmprom-supervisor";

// The supervisor lives as long as the broker and needs none of this
// executable's HTTP, TLS, JSON and expression libraries: it replaces its
// image with tkmprom-supervisor beside `self`, this executable (same pid, so
// it stays the broker's child and keeps PR_SET_PDEATHSIG), telling it to start
// `self` as the companion. Returns only when it cannot; the caller then
// supervises in-process, as before tkmprom-supervisor existed.
void ExecSmallSupervisor(int argc, char** argv, const std::string& self) {
  const size_t slash = self.rfind('/');
  if (slash == std::string::npos) return;
  std::string supervisor = self.substr(0, slash + 1) + kSupervisorName;
  if (access(supervisor.c_str(), X_OK) != 0) {
    tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kNotice,
                          std::string("tkmprom: no ") + kSupervisorName +
                              " beside tkmprom-companion; the supervisor runs in "
                              "tkmprom-companion");
    return;
  }
  std::string companion = "--companion=" + self;
  std::vector<char*> args = {supervisor.data()};
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).rfind("--companion=", 0) != 0) args.push_back(argv[i]);
  }
  args.push_back(companion.data());
  args.push_back(nullptr);
  execv(supervisor.c_str(), args.data());
  tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kNotice,
                        "tkmprom: cannot start " + supervisor + " (" + std::strerror(errno) +
                            "); the supervisor runs in tkmprom-companion");
}

}  // namespace

int main(int argc, char** argv) {
  tkmprom::ChildArgs args;
  std::string error;
  if (!tkmprom::ParseChildArgs(argc, argv, &args, &error)) {
    std::fprintf(stderr, "tkmprom-companion: %s\n", error.c_str());
    return 2;
  }
  const bool supervisor = args.role == tkmprom::ChildArgs::Role::kSupervisor;
  if (supervisor) {
    // The companion the supervisor starts is this executable, wherever the
    // supervisor runs.
    args.companion_path = tkmprom::OwnExecutable();
    if (!args.companion_path.empty()) ExecSmallSupervisor(argc, argv, args.companion_path);
  }
  tkmprom::PrepareChild(args.parent, supervisor ? "tkmprom-sup" : "tkmprom");
  int status = 1;
  try {
    status = supervisor ? tkmprom::RunSupervisor(args) : tkmprom::RunCompanion(args);
  } catch (const std::exception& e) {
    tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kError,
                          std::string("tkmprom: ") + (supervisor ? "supervisor" : "companion") +
                              " failed: " + e.what());
  } catch (...) {
    tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kError,
                          "tkmprom: failed with an unknown exception");
  }
  // _exit: no static destructor may run while libmicrohttpd's threads might.
  _exit(status);
}
