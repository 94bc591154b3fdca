// tkmprom-companion: the supervisor (--supervise) and the companion
// (--serve) of the tkmprom plugin, started by the plugin inside mosquitto
// (src/common/process_spawn.h), never by hand.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "src/common/process_spawn.h"
#include "src/companion/child_process.h"
#include "src/companion/companion.h"
#include "src/companion/supervisor.h"
#include "src/ring/log_pipe.h"

int main(int argc, char** argv) {
  tkmprom::ChildArgs args;
  std::string error;
  if (!tkmprom::ParseChildArgs(argc, argv, &args, &error)) {
    std::fprintf(stderr, "tkmprom-companion: %s\n", error.c_str());
    return 2;
  }
  const bool supervisor = args.role == tkmprom::ChildArgs::Role::kSupervisor;
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
