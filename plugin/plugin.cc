// tkmprom's Mosquitto plugin entry points (plugin API v5).
//
// The broker's thread does only this: at init, parse the options the hook
// needs, bind the HTTP socket, create the shared ring and start the
// supervisor by posix_spawn (which starts the companion the same way), and
// wait for the companion to say it is ready or why not; per publish,
// classify, timestamp and copy into the ring; on tick, forward the log lines
// of the plugin's processes and replace a dead supervisor; on reload, pass
// SIGHUP on; at cleanup, stop them. No thread is ever created here, and this
// module links nothing but the C and C++ runtime (a test reads its
// DT_NEEDED): the engine, HTTP, TLS and JSON live in tkmprom-companion.
//
// Thread safety: every function runs on the broker's single thread.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// clang-format off
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
// clang-format on

#include "plugin/companion_launch.h"
#include "plugin/listen_socket.h"
#include "src/common/monotonic_clock.h"
#include "src/common/option_blob.h"
#include "src/common/process_spawn.h"
#include "src/ring/log_pipe.h"
#include "src/ring/shared_region.h"
#include "tkmprom/config.h"
#include "tkmprom/topic.h"
#include "tkmprom_version.h"

#ifdef MOSQ_EVT_MESSAGE_IN
#define TKMPROM_EVT_MESSAGE MOSQ_EVT_MESSAGE_IN
#else
#define TKMPROM_EVT_MESSAGE MOSQ_EVT_MESSAGE
#endif

namespace tkmprom {
namespace {

constexpr int64_t kHousekeepingIntervalNs = 100 * 1000000;
// mosquitto 2.1 ticks a plugin only as often as it asks (plugin_tick.c).
constexpr long kTickRequestMs = 250;
constexpr int kStopGraceMs = 3000;
constexpr int kReadyTimeoutMs = 10000;
constexpr uint32_t kHousekeepingEvery = 1024;
// Log bytes forwarded per housekeeping at most, so a chatty child cannot
// hold the broker's thread.
constexpr size_t kLogBytesPerDrain = 64 * 1024;
// A supervisor that lived this long before it died gets replaced at once;
// one that dies sooner is replaced after a growing pause.
constexpr int64_t kStableSupervisorNs = int64_t{60} * 1000000000;

// The options the hook itself needs; every other one is only handed to the
// companion, which checks it (a bad value still fails init: see AwaitReady).
bool HookOption(std::string_view name) {
  return name == "http_listen" || name == "device_id_pattern" || name == "bridge_clients" ||
         name == "bridged_publishes" || name == "ring_size" || name == "companion_path";
}

// The broker's counts, kept here and stored into shared memory: the broker
// never reads back what another process could have written.
struct BrokerCounts {
  uint64_t received[kMessageKindCount] = {};
  uint64_t bridged[kMessageKindCount] = {};
  uint64_t dropped = 0;
  uint64_t supervisor_restarts[kRestartReasonCount] = {};
};

// What one loaded object shares across inits (per_listener_settings runs
// init once per listener): one ring, one supervisor, one companion.
struct PluginState {
  Config config;
  bool default_pattern = true;
  bool has_bridges = false;
  std::unique_ptr<SharedRegion> region;
  std::unique_ptr<SpscRing> messages;  // the producer
  BrokerCounts counts;
  LaunchResources launch;
  int log_read_fd = -1;
  LogLineSplitter log_lines;
  pid_t supervisor = -1;
  int consecutive_failures = 0;
  int64_t next_housekeeping_ns = 0;
  int64_t supervisor_started_ns = 0;
  int64_t next_supervisor_start_ns = 0;
  int users = 0;
  uint32_t housekeeping_countdown = kHousekeepingEvery;
  // mosquitto 2.1 (found at run time): reload callbacks must return success.
  bool broker_2_1 = false;

  ~PluginState() {
    for (int fd : {launch.options_fd, launch.listen_fd, launch.log_fd, log_read_fd}) {
      if (fd >= 0) close(fd);
    }
  }
};

// One per successful init: what cleanup must unregister.
struct Instance {
  mosquitto_plugin_id_t* identifier;
};

PluginState* g_state = nullptr;

int64_t CoarseNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::string MosquittoVersion() {
  return std::to_string(LIBMOSQUITTO_MAJOR) + "." + std::to_string(LIBMOSQUITTO_MINOR) + "." +
         std::to_string(LIBMOSQUITTO_REVISION);
}

int ToMosquittoLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return MOSQ_LOG_INFO;
    case LogLevel::kNotice:
      return MOSQ_LOG_NOTICE;
    case LogLevel::kWarning:
      return MOSQ_LOG_WARNING;
    case LogLevel::kError:
      return MOSQ_LOG_ERR;
  }
  return MOSQ_LOG_INFO;
}

// Forwards what the children wrote to the log pipe (non-blocking reads).
void DrainLog(PluginState* s) {
  if (s->log_read_fd < 0) return;
  char buf[4096];
  for (size_t total = 0; total < kLogBytesPerDrain;) {
    const ssize_t n = read(s->log_read_fd, buf, sizeof(buf));
    if (n <= 0) return;  // empty (EAGAIN), or an interrupted read: next time
    total += static_cast<size_t>(n);
    s->log_lines.Feed(buf, static_cast<size_t>(n), [](const LogLineSplitter::Line& line) {
      mosquitto_log_printf(ToMosquittoLevel(line.level), "%.*s", static_cast<int>(line.text.size()),
                           line.text.data());
    });
  }
}

void StopEverything(PluginState* s) {
  if (s->supervisor > 0) {
    StopAndReap(s->supervisor, kStopGraceMs);
    s->supervisor = -1;
  }
  DrainLog(s);
}

// Housekeeping while the supervisor runs: forward log lines, notice a dead
// supervisor and start a new one (by posix_spawn, like the first: never a
// fork of the busy broker). Runs from the tick and, because mosquitto
// 2.0.11-2.0.14 never ticks with per_listener_settings true, every
// kHousekeepingEvery publishes too. Under load 2.0.11 ticks about once per
// loop iteration, so the coarse clock check comes first.
void Housekeeping(PluginState* s) {
  const int64_t now = CoarseNanos();
  if (now < s->next_housekeeping_ns) return;
  s->next_housekeeping_ns = now + kHousekeepingIntervalNs;
  DrainLog(s);
  if (s->supervisor > 0) {
    int status = 0;
    if (waitpid(s->supervisor, &status, WNOHANG) != s->supervisor) return;
    const RestartReason reason =
        WIFSIGNALED(status) ? RestartReason::kSignal : RestartReason::kExit;
    const bool stable = now - s->supervisor_started_ns >= kStableSupervisorNs;
    s->consecutive_failures = stable ? 1 : s->consecutive_failures + 1;
    const int64_t pause_ms =
        s->consecutive_failures <= 1
            ? 0
            : std::min<int64_t>(int64_t{1000} << std::min(s->consecutive_failures - 2, 5), 30000);
    s->next_supervisor_start_ns = now + pause_ms * 1000000;
    mosquitto_log_printf(MOSQ_LOG_WARNING,
                         "tkmprom: supervisor (pid %d) %s; the companion went with it; starting "
                         "them again in %lld ms",
                         static_cast<int>(s->supervisor), DescribeWaitStatus(status).c_str(),
                         static_cast<long long>(pause_ms));
    s->supervisor = -1;
    StoreCounter(s->region->counters().supervisor_restarts[static_cast<int>(reason)],
                 ++s->counts.supervisor_restarts[static_cast<int>(reason)]);
  }
  if (now < s->next_supervisor_start_ns) return;
  std::string error;
  s->supervisor = StartSupervisor(s->launch, -1, &error);
  s->supervisor_started_ns = now;
  if (s->supervisor < 0) {
    s->next_supervisor_start_ns = now + int64_t{5} * 1000000000;
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot start the supervisor: %s", error.c_str());
    return;
  }
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "tkmprom: supervisor and companion started again");
}

// True if the companion needs a publish that arrived over a bridge
// (plugin_opt_bridged_publishes): with `answers`, those whose payload it
// reads, which name a device (answers to it, or its requests, heartbeats and
// boots, which tell that it now publishes to another broker).
bool ForwardBridged(BridgedPublishes mode, bool store_payload) {
  switch (mode) {
    case BridgedPublishes::kAll:
      return true;
    case BridgedPublishes::kNone:
      return false;
    case BridgedPublishes::kAnswers:
      break;
  }
  return store_payload;
}

// The hot path: every publish of every client passes here.
int OnMessage(int, void* event_data, void*) {
  try {
    PluginState* s = g_state;
    const auto* ed = static_cast<const mosquitto_evt_message*>(event_data);
    if (s == nullptr || ed == nullptr || ed->topic == nullptr) return MOSQ_ERR_SUCCESS;
    const std::string_view topic(ed->topic);
    const MessageKind kind = ClassifyTopic(topic, s->default_pattern);
    const bool store_payload =
        KindNeedsPayload(kind) || (kind == MessageKind::kOther && !s->default_pattern);
    const char* client_id = ed->client != nullptr ? mosquitto_client_id(ed->client) : nullptr;
    const std::string_view client =
        client_id != nullptr ? std::string_view(client_id) : std::string_view();
    const bool bridged =
        s->has_bridges && client_id != nullptr && s->config.bridge_clients.Matches(client);
    SharedCounters& shared = s->region->counters();
    const int k = static_cast<int>(kind);
    if (bridged) {
      StoreCounter(shared.bridged[k], ++s->counts.bridged[k]);
    } else {
      StoreCounter(shared.received[k], ++s->counts.received[k]);
    }
    if ((!bridged || ForwardBridged(s->config.bridged_publishes, store_payload)) &&
        !WriteObservation(s->messages.get(), kind, MonotonicNanos(), client, topic, ed->payload,
                          ed->payloadlen, store_payload, bridged ? kBridged : 0)) {
      StoreCounter(shared.dropped, ++s->counts.dropped);
    }
    if (--s->housekeeping_countdown == 0) {
      s->housekeeping_countdown = kHousekeepingEvery;
      Housekeeping(s);
    }
  } catch (...) {
    // Nothing here throws; if it ever did, the broker must not notice.
  }
  return MOSQ_ERR_SUCCESS;
}

int OnTick(int, void* event_data, void*) {
  try {
    // mosquitto 2.1 wakes its loop for a plugin only as often as the plugin
    // asks here (2.1 calls next_ns next_ms, at the same place; 2.0 ignores
    // both fields), and only renews the request when it calls the tick,
    // which it does only once the plugin's next tick is due
    // (plugin_tick.c). An earlier wake-up (any client's packet) drops the
    // request, and an idle broker then sleeps up to a day: a dead supervisor
    // would stay dead. Asking for next_s = -2 and next_ms = 2000 + 250 puts
    // the next tick in the past (so it is due at every loop iteration, like
    // 2.0.11's, and Housekeeping's coarse clock check keeps that cheap)
    // while the loop is asked to wake within -2000 + 2250 = 250 ms.
    auto* ed = static_cast<mosquitto_evt_tick*>(event_data);
    if (ed != nullptr) {
      ed->next_s = -2;
      ed->next_ns = 2000 + kTickRequestMs;
    }
    if (g_state != nullptr) Housekeeping(g_state);
  } catch (...) {
  }
  return MOSQ_ERR_SUCCESS;
}

// SIGHUP (MOSQ_EVT_RELOAD): the companion re-reads the htpasswd and TLS
// files; the supervisor passes the signal on. Options are not re-read by
// mosquitto. 2.0 calls the next plugin's reload only after PLUGIN_DEFER;
// 2.1 only after SUCCESS (and logs an error otherwise).
int OnReload(int, void*, void*) {
  PluginState* s = g_state;
  try {
    if (s != nullptr && s->supervisor > 0) kill(s->supervisor, SIGHUP);
  } catch (...) {
  }
  return s != nullptr && s->broker_2_1 ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
}

// Parses the options of one init: those the hook needs are checked here
// (false after logging the first bad one); the rest are only recorded, for
// the companion to check and for comparing two inits.
bool ParseOptions(const mosquitto_opt* options, int count, Config* config, OptionList* all) {
  for (int i = 0; i < count; ++i) {
    const char* key = options[i].key != nullptr ? options[i].key : "";
    const char* value = options[i].value != nullptr ? options[i].value : "";
    all->emplace_back(key, value);
    if (!HookOption(key)) {
      config->given[key] = value;
      continue;
    }
    std::string message;
    if (ApplyOption(key, value, config, &message) == OptionResult::kBad) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "%s", message.c_str());
      return false;
    }
  }
  return true;
}

// The first init: everything is created here, and undone on any failure
// (the broker calls no cleanup after a failed init).
bool CreateState(const Config& config, const OptionList& options) {
  auto s = std::make_unique<PluginState>();
  s->config = config;
  s->default_pattern = config.DefaultDevicePattern();
  s->has_bridges = !config.bridge_clients.empty();
  s->broker_2_1 = dlsym(RTLD_DEFAULT, "mosquitto_plugin_set_info") != nullptr;
  std::string error = FindCompanion(config, &s->launch.companion_path);
  if (!error.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", error.c_str());
    return false;
  }
  s->launch.listen_fd = BindListenSocket(config, &error);
  if (s->launch.listen_fd < 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", error.c_str());
    return false;
  }
  s->region = SharedRegion::Create(config.RingBytes(), &error);
  if (!s->region) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: %s", error.c_str());
    return false;
  }
  s->messages = std::make_unique<SpscRing>(s->region->MessageRing());
  s->launch.ring_fd = s->region->fd();
  s->launch.ring_bytes = s->region->message_ring_bytes();
  s->launch.mosquitto_version = MosquittoVersion();
  s->launch.options_fd = OptionsToMemfd(EncodeOptions(options), &error);
  if (s->launch.options_fd < 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: %s", error.c_str());
    return false;
  }
  int log_pipe[2];
  int ready_pipe[2];
  if (pipe2(log_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot create the log pipe: %s",
                         std::strerror(errno));
    return false;
  }
  s->log_read_fd = log_pipe[0];
  s->launch.log_fd = log_pipe[1];
  if (pipe2(ready_pipe, O_CLOEXEC) != 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot create a pipe: %s", std::strerror(errno));
    return false;
  }
  s->supervisor = StartSupervisor(s->launch, ready_pipe[1], &error);
  close(ready_pipe[1]);
  s->supervisor_started_ns = CoarseNanos();
  if (s->supervisor < 0) {
    close(ready_pipe[0]);
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot start the supervisor: %s", error.c_str());
    return false;
  }
  // The companion checks the options the hook does not need, reads the
  // files they name and starts serving before it answers.
  error = AwaitReady(ready_pipe[0], kReadyTimeoutMs);
  close(ready_pipe[0]);
  if (!error.empty()) {
    StopEverything(s.get());
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", error.c_str());
    return false;
  }
  DrainLog(s.get());
  g_state = s.release();
  return true;
}

using SetInfoFunction = int (*)(mosquitto_plugin_id_t*, const char*, const char*);

int Init(mosquitto_plugin_id_t* identifier, void** user_data, mosquitto_opt* options,
         int option_count) {
  Config config;
  OptionList all;
  if (!ParseOptions(options, option_count, &config, &all)) return MOSQ_ERR_INVAL;
  if (g_state == nullptr) {
    if (!CreateState(config, all)) return MOSQ_ERR_UNKNOWN;
  } else {
    const std::vector<std::string> differing = DifferingOptions(g_state->config, config);
    if (!differing.empty()) {
      std::string names;
      for (const std::string& n : differing) names += (names.empty() ? "" : ", ") + n;
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "tkmprom: this listener's plugin options differ from the first "
                           "listener's (%s); the first listener's options apply",
                           names.c_str());
    }
  }
  // mosquitto 2.1 names its plugins; 2.0 has no such function.
  if (auto set_info =
          reinterpret_cast<SetInfoFunction>(dlsym(RTLD_DEFAULT, "mosquitto_plugin_set_info"))) {
    set_info(identifier, "tkmprom", TKMPROM_VERSION);
  }
  auto instance = std::make_unique<Instance>();
  instance->identifier = identifier;
  if (mosquitto_callback_register(identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS ||
      mosquitto_callback_register(identifier, MOSQ_EVT_TICK, OnTick, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS ||
      mosquitto_callback_register(identifier, MOSQ_EVT_RELOAD, OnReload, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS) {
    mosquitto_callback_unregister(identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr);
    mosquitto_callback_unregister(identifier, MOSQ_EVT_TICK, OnTick, nullptr);
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot register the broker callbacks");
    if (g_state->users == 0) {
      StopEverything(g_state);
      delete g_state;
      g_state = nullptr;
    }
    return MOSQ_ERR_UNKNOWN;
  }
  ++g_state->users;
  *user_data = instance.release();
  return MOSQ_ERR_SUCCESS;
}

int Cleanup(void* user_data) {
  std::unique_ptr<Instance> instance(static_cast<Instance*>(user_data));
  if (instance) {
    mosquitto_callback_unregister(instance->identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr);
    mosquitto_callback_unregister(instance->identifier, MOSQ_EVT_TICK, OnTick, nullptr);
    mosquitto_callback_unregister(instance->identifier, MOSQ_EVT_RELOAD, OnReload, nullptr);
  }
  if (g_state != nullptr && --g_state->users <= 0) {
    StopEverything(g_state);
    delete g_state;
    g_state = nullptr;
  }
  return MOSQ_ERR_SUCCESS;
}

}  // namespace
}  // namespace tkmprom

// The only symbols the module exports (see tkmprom.map); everything else is hidden.
#define TKMPROM_EXPORT __attribute__((visibility("default")))

extern "C" {

TKMPROM_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                            const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

TKMPROM_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** user_data,
                                         struct mosquitto_opt* options, int option_count) {
  try {
    return tkmprom::Init(identifier, user_data, options, option_count);
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: init failed: %s", e.what());
  } catch (...) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: init failed");
  }
  return MOSQ_ERR_UNKNOWN;
}

TKMPROM_EXPORT int mosquitto_plugin_cleanup(void* user_data, struct mosquitto_opt*, int) {
  try {
    return tkmprom::Cleanup(user_data);
  } catch (...) {
  }
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
