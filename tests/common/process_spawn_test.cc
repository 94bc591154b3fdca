#include "src/common/process_spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <map>
#include <string>

namespace tkmprom {
namespace {

// A child that waits long enough to be looked at from here.
class SleepingChild {
 public:
  explicit SleepingChild(const std::vector<int>& fds) {
    pid_ = SpawnChild("/bin/sleep", {"30"}, fds, &error_);
  }
  ~SleepingChild() {
    if (pid_ > 0) StopAndReap(pid_, 1000);
  }
  pid_t pid() const { return pid_; }
  const std::string& error() const { return error_; }

  // Its descriptors and what they point at.
  std::map<int, std::string> Fds() const {
    std::map<int, std::string> fds;
    const std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return fds;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char target[PATH_MAX];
      const ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof(target));
      fds[std::stoi(e->d_name)] = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
    }
    closedir(d);
    return fds;
  }

  // A line of /proc/<pid>/status, e.g. "SigBlk".
  std::string Status(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 2);
    }
    return "";
  }

 private:
  pid_t pid_ = -1;
  std::string error_;
};

// posix_spawn returns once the child has exec'd, so /proc shows the
// descriptors and signal state sleep inherited.
TEST(ProcessSpawnTest, ChildGetsOnlyTheHandedDescriptorsAtFixedNumbers) {
  // A descriptor the parent left inheritable (as mosquitto does with its
  // client sockets) must not reach the child.
  const int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  const int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  const int urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(zero, 0);
  SleepingChild child({zero, -1, urandom, -1});
  ASSERT_GT(child.pid(), 0) << child.error();
  const std::map<int, std::string> want = {{0, "/dev/null"},
                                           {1, "/dev/null"},
                                           {2, "/dev/null"},
                                           {kFirstChildFd, "/dev/zero"},
                                           {kFirstChildFd + 2, "/dev/urandom"}};
  // sleep may open and close a file or two while it starts (locale data):
  // wait for its descriptors to settle. A leaked one never goes away.
  std::map<int, std::string> fds;
  for (int i = 0; i < 200 && (fds = child.Fds()) != want; ++i) usleep(10000);
  EXPECT_EQ(fds, want);
  close(leaky);
  close(zero);
  close(urandom);
}

TEST(ProcessSpawnTest, ChildStartsWithAnEmptySignalMaskAndDefaultHandlers) {
  // mosquitto blocks SIGTERM and friends outside epoll_pwait; a child must
  // inherit neither that nor an ignored signal.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &old);
  struct sigaction ignore {
  }, old_usr1{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &ignore, &old_usr1);
  SleepingChild child({});
  sigprocmask(SIG_SETMASK, &old, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  ASSERT_GT(child.pid(), 0) << child.error();
  EXPECT_EQ(child.Status("SigBlk"), "0000000000000000");
  // Signals 1-31; glibc keeps its two internal real-time signals itself.
  EXPECT_EQ(std::stoull(child.Status("SigIgn"), nullptr, 16) & 0x7FFFFFFFull, 0u)
      << child.Status("SigIgn");
  // And a process group of its own: a terminal's Ctrl-C goes to the broker.
  EXPECT_EQ(getpgid(child.pid()), child.pid());
}

TEST(ProcessSpawnTest, AMissingExecutableIsAnErrorNotAChild) {
  std::string error;
  EXPECT_EQ(SpawnChild("/nonexistent/tkmprom-companion", {}, {}, &error), -1);
  EXPECT_NE(error.find("/nonexistent/tkmprom-companion"), std::string::npos) << error;
}

TEST(ProcessSpawnTest, DescribesHowAChildEnded) {
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited with status 3");
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "was killed by signal 9 (Killed)");
}

}  // namespace
}  // namespace tkmprom
