// tkmprom's Mosquitto plugin entry points (plugin API v5).
//
// The broker's thread does only this: at init, parse the options, bind the
// HTTP socket, map the shared ring and fork the supervisor (which forks the
// companion); per publish, classify, timestamp and copy into the ring; on
// tick, forward the forked processes' log lines and replace a dead
// supervisor; at cleanup, stop them. No thread is ever created here.
//
// Thread safety: every function runs on the broker's single thread.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

#include "src/companion/listen_socket.h"
#include "src/companion/process.h"
#include "src/companion/supervisor.h"
#include "src/http/http_security.h"
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

constexpr int64_t kTickIntervalNs = 100 * 1000000;
constexpr int64_t kSupervisorRestartGapNs = int64_t{5} * 1000000000;
constexpr int kStopGraceMs = 3000;
constexpr uint32_t kHousekeepingEvery = 1024;

// What one loaded object shares across inits (per_listener_settings runs
// init once per listener): one ring, one supervisor, one companion.
struct Shared {
  Config config;
  HttpSecurity http_security;
  bool default_pattern = true;
  bool has_bridges = false;
  std::unique_ptr<SharedRegion> region;
  std::unique_ptr<SpscRing> messages;
  std::unique_ptr<SpscRing> supervisor_log;
  std::unique_ptr<SpscRing> companion_log;
  ForkContext context;
  int listen_fd = -1;
  pid_t supervisor = -1;
  int64_t next_tick_ns = 0;
  int64_t last_supervisor_start_ns = 0;
  int users = 0;
  uint32_t housekeeping_countdown = kHousekeepingEvery;
};

// One per successful init: what cleanup must unregister.
struct Instance {
  mosquitto_plugin_id_t* identifier;
};

Shared* g_shared = nullptr;

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

void DrainLog(SpscRing* ring) {
  const char* data;
  uint32_t size;
  for (int i = 0; i < 256 && ring->Peek(&data, &size); ++i) {
    LogLevel level;
    std::string_view text;
    if (DecodeLog(data, size, &level, &text)) {
      mosquitto_log_printf(ToMosquittoLevel(level), "%.*s", static_cast<int>(text.size()),
                           text.data());
    }
    ring->Pop();
  }
}

bool StartSupervisorLogged(Shared* s) {
  std::string error;
  s->supervisor = StartSupervisor(s->context, &error);
  s->last_supervisor_start_ns = CoarseNanos();
  if (s->supervisor < 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot start the companion: %s", error.c_str());
    return false;
  }
  return true;
}

void StopEverything(Shared* s) {
  if (s->supervisor > 0) {
    StopAndReap(s->supervisor, kStopGraceMs);
    s->supervisor = -1;
  }
  if (s->supervisor_log) DrainLog(s->supervisor_log.get());
  if (s->companion_log) DrainLog(s->companion_log.get());
  if (s->listen_fd >= 0) close(s->listen_fd);
  s->listen_fd = -1;
}

void Housekeeping(Shared* s);

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
    Shared* s = g_shared;
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
    SharedCounters& counters = s->region->counters();
    BumpSingleWriter((bridged ? counters.bridged : counters.received)[static_cast<int>(kind)]);
    if ((!bridged || ForwardBridged(s->config.bridged_publishes, store_payload)) &&
        !WriteObservation(s->messages.get(), kind, MonotonicNanos(), client, topic, ed->payload,
                          ed->payloadlen, store_payload, bridged ? kBridged : 0)) {
      BumpSingleWriter(counters.dropped);
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

// Forwards log lines and replaces a dead supervisor, at most every
// kTickIntervalNs. Runs from the tick and, because mosquitto 2.0.11-2.0.14
// never ticks with per_listener_settings true, every kHousekeepingEvery
// publishes too. Under load 2.0.11 ticks about once per loop iteration, so
// the coarse clock check comes first.
void Housekeeping(Shared* s) {
  const int64_t now = CoarseNanos();
  if (now < s->next_tick_ns) return;
  s->next_tick_ns = now + kTickIntervalNs;
  DrainLog(s->supervisor_log.get());
  DrainLog(s->companion_log.get());
  if (s->supervisor > 0) {
    int status = 0;
    if (waitpid(s->supervisor, &status, WNOHANG) == s->supervisor) {
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "tkmprom: supervisor (pid %d) %s; the companion went with it",
                           static_cast<int>(s->supervisor), DescribeWaitStatus(status).c_str());
      s->supervisor = -1;
    }
  }
  if (s->supervisor < 0 && now - s->last_supervisor_start_ns >= kSupervisorRestartGapNs) {
    if (StartSupervisorLogged(s)) {
      BumpSingleWriter(s->region->counters().companion_restarts);
      mosquitto_log_printf(MOSQ_LOG_NOTICE, "tkmprom: companion restarted");
    }
  }
}

int OnTick(int, void*, void*) {
  try {
    if (g_shared != nullptr) Housekeeping(g_shared);
  } catch (...) {
  }
  return MOSQ_ERR_SUCCESS;
}

// Parses the options of one init; false after logging the first bad value.
bool ParseOptions(const mosquitto_opt* options, int count, Config* config) {
  for (int i = 0; i < count; ++i) {
    const char* key = options[i].key != nullptr ? options[i].key : "";
    const char* value = options[i].value != nullptr ? options[i].value : "";
    std::string message;
    switch (ApplyOption(key, value, config, &message)) {
      case OptionResult::kOk:
        break;
      case OptionResult::kUnknown:
        mosquitto_log_printf(MOSQ_LOG_WARNING, "%s", message.c_str());
        break;
      case OptionResult::kBad:
        mosquitto_log_printf(MOSQ_LOG_ERR, "%s", message.c_str());
        return false;
    }
  }
  const std::string problem = ValidateConfig(*config);
  if (!problem.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", problem.c_str());
    return false;
  }
  return true;
}

// The first init: everything is created here, and undone on any failure
// (the broker calls no cleanup after a failed init).
bool CreateShared(const Config& config) {
  auto s = std::make_unique<Shared>();
  s->config = config;
  s->default_pattern = config.DefaultDevicePattern();
  s->has_bridges = !config.bridge_clients.empty();
  // Read now, after the broker dropped privileges: a file the serving user
  // cannot read fails the start here, not in every companion.
  std::string error = LoadHttpSecurity(config, &s->http_security);
  if (!error.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", error.c_str());
    return false;
  }
  s->listen_fd = BindListenSocket(s->config, &error);
  if (s->listen_fd < 0) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "%s", error.c_str());
    return false;
  }
  s->region = SharedRegion::Create(SharedRegion::kDefaultMessageRingBytes, &error);
  if (!s->region) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: %s", error.c_str());
    StopEverything(s.get());
    return false;
  }
  s->messages =
      std::make_unique<SpscRing>(s->region->message_ring_header(), s->region->message_ring_data());
  s->supervisor_log = std::make_unique<SpscRing>(s->region->supervisor_log_header(),
                                                 s->region->supervisor_log_data());
  s->companion_log = std::make_unique<SpscRing>(s->region->companion_log_header(),
                                                s->region->companion_log_data());
  s->context.config = &s->config;
  s->context.http_security = &s->http_security;
  s->context.region = s->region.get();
  s->context.listen_fd = s->listen_fd;
  s->context.version = TKMPROM_VERSION;
  s->context.mosquitto_version = MosquittoVersion();
  if (!StartSupervisorLogged(s.get())) {
    StopEverything(s.get());
    return false;
  }
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "tkmprom %s: serving metrics on %s://%s%s%s:%u/metrics%s",
                       TKMPROM_VERSION, s->http_security.TlsEnabled() ? "https" : "http",
                       config.http_ipv6 ? "[" : "", config.http_host.c_str(),
                       config.http_ipv6 ? "]" : "", static_cast<unsigned>(config.http_port),
                       s->http_security.AuthEnabled() ? " (basic auth)" : "");
  g_shared = s.release();
  return true;
}

int Init(mosquitto_plugin_id_t* identifier, void** user_data, mosquitto_opt* options,
         int option_count) {
  Config config;
  if (!ParseOptions(options, option_count, &config)) return MOSQ_ERR_INVAL;
  if (g_shared == nullptr) {
    if (!CreateShared(config)) return MOSQ_ERR_UNKNOWN;
  } else {
    const std::vector<std::string> differing = DifferingOptions(g_shared->config, config);
    if (!differing.empty()) {
      std::string names;
      for (const std::string& n : differing) names += (names.empty() ? "" : ", ") + n;
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "tkmprom: this listener's plugin options differ from the first "
                           "listener's (%s); the first listener's options apply",
                           names.c_str());
    }
  }
  auto instance = std::make_unique<Instance>();
  instance->identifier = identifier;
  if (mosquitto_callback_register(identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS ||
      mosquitto_callback_register(identifier, MOSQ_EVT_TICK, OnTick, nullptr, nullptr) !=
          MOSQ_ERR_SUCCESS) {
    mosquitto_callback_unregister(identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr);
    mosquitto_log_printf(MOSQ_LOG_ERR, "tkmprom: cannot register the broker callbacks");
    if (g_shared->users == 0) {
      StopEverything(g_shared);
      delete g_shared;
      g_shared = nullptr;
    }
    return MOSQ_ERR_UNKNOWN;
  }
  ++g_shared->users;
  *user_data = instance.release();
  return MOSQ_ERR_SUCCESS;
}

int Cleanup(void* user_data) {
  std::unique_ptr<Instance> instance(static_cast<Instance*>(user_data));
  if (instance) {
    mosquitto_callback_unregister(instance->identifier, TKMPROM_EVT_MESSAGE, OnMessage, nullptr);
    mosquitto_callback_unregister(instance->identifier, MOSQ_EVT_TICK, OnTick, nullptr);
  }
  if (g_shared != nullptr && --g_shared->users <= 0) {
    StopEverything(g_shared);
    delete g_shared;
    g_shared = nullptr;
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
