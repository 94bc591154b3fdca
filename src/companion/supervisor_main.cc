// tkmprom-supervisor: the supervisor of the tkmprom plugin, small. The broker
// starts `tkmprom-companion --supervise`, which replaces its image with this
// one (execv, same pid) before doing anything else, so the long-lived
// supervisor maps the C and C++ runtime only, not the companion's HTTP, TLS,
// JSON and expression libraries. It starts the companion from --companion=,
// the tkmprom-companion that exec'd it (required).
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>

#include "src/common/process_spawn.h"
#include "src/companion/child_process.h"
#include "src/companion/supervisor.h"
#include "src/ring/log_pipe.h"

int main(int argc, char** argv) {
  tkmprom::ChildArgs args;
  std::string error;
  if (!tkmprom::ParseChildArgs(argc, argv, &args, &error)) {
    std::fprintf(stderr, "tkmprom-supervisor: %s\n", error.c_str());
    return 2;
  }
  if (args.role != tkmprom::ChildArgs::Role::kSupervisor) {
    std::fprintf(stderr,
                 "tkmprom-supervisor: only --supervise; the companion is "
                 "tkmprom-companion\n");
    return 2;
  }
  if (args.companion_path.empty()) {
    std::fprintf(stderr,
                 "tkmprom-supervisor: --companion=PATH is required (tkmprom-companion "
                 "--supervise passes it)\n");
    return 2;
  }
  tkmprom::PrepareChild(args.parent, "tkmprom-sup");
  int status = 1;
  try {
    status = tkmprom::RunSupervisor(args);
  } catch (const std::exception& e) {
    tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kError,
                          std::string("tkmprom: supervisor failed: ") + e.what());
  } catch (...) {
    tkmprom::WriteLogLine(tkmprom::kLogFd, tkmprom::LogLevel::kError,
                          "tkmprom: failed with an unknown exception");
  }
  // _exit, as tkmprom-companion does: nothing to flush or destroy.
  _exit(status);
}
