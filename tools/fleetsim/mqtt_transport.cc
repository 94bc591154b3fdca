// The epoll loop over libmosquitto clients.
#include "mqtt_transport.h"

#include <mosquitto.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fleetsim {

struct MqttTransport::Slot {
  MqttTransport* owner = nullptr;
  int index = 0;
  mosquitto* mosq = nullptr;
  ClientSpec spec;
  int fd = -1;
  uint32_t events = 0;
  bool connected = false;
  bool ever_connected = false;
  bool disconnect_requested = false;
  bool dirty = false;
  bool idle_queued = false;
  // Set around mosquitto_publish: a QoS 0 publish may be reported sent
  // before mosquitto_publish returns its mid.
  bool in_publish = false;
  bool current_reported = false;
  uint32_t current_tag = 0;
  std::unordered_map<int, uint32_t> inflight;  // mid -> tag
};

MqttTransport::MqttTransport(std::string host, int port, bool subscribe, TransportSink* sink,
                             const volatile std::sig_atomic_t* stop)
    : host_(std::move(host)),
      port_(port),
      subscribe_(subscribe),
      sink_(sink),
      stop_(stop),
      start_(std::chrono::steady_clock::now()) {
  mosquitto_lib_init();
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
}

MqttTransport::~MqttTransport() {
  for (auto& s : slots_) {
    if (s && s->mosq) mosquitto_destroy(s->mosq);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  mosquitto_lib_cleanup();
}

double MqttTransport::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool MqttTransport::AddClient(int client, const ClientSpec& spec) {
  if (client >= static_cast<int>(slots_.size())) slots_.resize(client + 1);
  auto slot = std::make_unique<Slot>();
  slot->owner = this;
  slot->index = client;
  slot->spec = spec;
  slots_[client] = std::move(slot);
  return true;
}

bool MqttTransport::Create(Slot& s) {
  s.mosq = mosquitto_new(s.spec.client_id.c_str(), true, &s);
  if (!s.mosq) {
    ++create_failures_;
    return false;
  }
  s.ever_connected = false;
  mosquitto_int_option(s.mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_int_option(s.mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(s.mosq, &MqttTransport::OnConnectCb);
  mosquitto_disconnect_callback_set(s.mosq, &MqttTransport::OnDisconnectCb);
  mosquitto_publish_callback_set(s.mosq, &MqttTransport::OnPublishCb);
  mosquitto_message_callback_set(s.mosq, &MqttTransport::OnMessageCb);
  return true;
}

void MqttTransport::DestroyIdle() {
  for (int i : idle_) {
    Slot& s = *slots_[i];
    s.idle_queued = false;
    if (s.mosq && s.fd < 0 && !s.connected) {
      mosquitto_destroy(s.mosq);
      s.mosq = nullptr;
    }
  }
  idle_.clear();
}

void MqttTransport::Connect(int client) {
  Slot& s = *slots_[client];
  if (s.fd >= 0) return;
  if (!s.mosq && !Create(s)) {
    sink_->OnDisconnected(client, Now(), false);
    return;
  }
  s.disconnect_requested = false;
  int rc = s.ever_connected
               ? mosquitto_reconnect_async(s.mosq)
               : mosquitto_connect_async(s.mosq, host_.c_str(), port_, s.spec.keepalive);
  s.ever_connected = true;
  if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(s.mosq) < 0) {
    // mosquitto_connect_async may have opened and closed a socket already.
    ++connect_failures_;
    QueueIdle(s);
    sink_->OnDisconnected(client, Now(), false);
    return;
  }
  Watch(s);
}

void MqttTransport::Watch(Slot& s) {
  s.fd = mosquitto_socket(s.mosq);
  s.events = EPOLLIN | EPOLLOUT;
  epoll_event ev{};
  ev.events = s.events;
  ev.data.ptr = &s;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
    std::fprintf(stderr, "fleetsim: epoll_ctl ADD: %s\n", std::strerror(errno));
  }
  ++open_sockets_;
}

void MqttTransport::Disconnect(int client) {
  Slot& s = *slots_[client];
  if (!s.mosq || s.fd < 0) return;
  s.disconnect_requested = true;
  if (mosquitto_disconnect(s.mosq) != MOSQ_ERR_SUCCESS) {
    // Not connected yet (CONNACK outstanding): drop the socket.
    mosquitto_disconnect(s.mosq);
  }
  MarkDirty(s);
}

bool MqttTransport::Publish(int client, const std::string& topic, const std::string& payload,
                            int qos, bool retain, uint32_t tag) {
  Slot& s = *slots_[client];
  if (!s.connected) {
    ++refused_publishes_;
    return false;
  }
  int mid = 0;
  s.in_publish = true;
  s.current_reported = false;
  s.current_tag = tag;
  int rc = mosquitto_publish(s.mosq, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  s.in_publish = false;
  if (rc != MOSQ_ERR_SUCCESS) {
    if (!s.current_reported) {
      ++refused_publishes_;
      return false;
    }
    return true;
  }
  if (!s.current_reported) s.inflight.emplace(mid, tag);
  MarkDirty(s);
  return true;
}

void MqttTransport::OnConnectCb(mosquitto* m, void* obj, int rc) {
  Slot& s = *static_cast<Slot*>(obj);
  MqttTransport* t = s.owner;
  if (rc != 0) return;  // the broker closes; OnDisconnectCb follows
  s.connected = true;
  ++t->connected_;
  if (s.spec.device && t->subscribe_) {
    const std::string& id = s.spec.client_id;
    mosquitto_subscribe(m, nullptr, id.c_str(), 1);
    std::string status = "DEVICESTATUS", fw = "FIRMWAREUPDATE/" + id, alert = "ALERT/" + id;
    char* topics[] = {status.data(), fw.data(), alert.data()};
    mosquitto_subscribe_multiple(m, nullptr, 3, topics, 0, 0, nullptr);
  }
  t->MarkDirty(s);
  t->sink_->OnConnected(s.index, t->Now());
}

void MqttTransport::SocketClosed(Slot& s) {
  if (s.fd >= 0) {
    // The library has closed the socket, which also left the epoll set.
    s.fd = -1;
    --open_sockets_;
  }
  if (s.connected) {
    s.connected = false;
    --connected_;
  }
  QueueIdle(s);
  for (auto& [mid, tag] : s.inflight) {
    ++lost_publishes_;
    sink_->OnPublishLost(tag);
  }
  s.inflight.clear();
}

void MqttTransport::OnDisconnectCb(mosquitto*, void* obj, int rc) {
  Slot& s = *static_cast<Slot*>(obj);
  MqttTransport* t = s.owner;
  bool expected = s.disconnect_requested || rc == 0;
  if (!expected) ++t->lost_connections_;
  t->SocketClosed(s);
  t->sink_->OnDisconnected(s.index, t->Now(), expected);
}

void MqttTransport::OnPublishCb(mosquitto*, void* obj, int mid) {
  Slot& s = *static_cast<Slot*>(obj);
  MqttTransport* t = s.owner;
  auto it = s.inflight.find(mid);
  if (it != s.inflight.end()) {
    uint32_t tag = it->second;
    s.inflight.erase(it);
    t->sink_->OnPublished(tag, t->Now());
  } else if (s.in_publish && !s.current_reported) {
    s.current_reported = true;
    t->sink_->OnPublished(s.current_tag, t->Now());
  }
}

void MqttTransport::OnMessageCb(mosquitto*, void* obj, const ::mosquitto_message*) {
  static_cast<Slot*>(obj)->owner->received_++;
}

void MqttTransport::QueueIdle(Slot& s) {
  if (!s.idle_queued) {
    s.idle_queued = true;
    idle_.push_back(s.index);
  }
}

void MqttTransport::MarkDirty(Slot& s) {
  if (!s.dirty) {
    s.dirty = true;
    dirty_.push_back(s.index);
  }
}

void MqttTransport::UpdateEvents(Slot& s) {
  if (s.fd < 0) return;
  if (mosquitto_socket(s.mosq) != s.fd) {
    // Closed under us without a callback (should not happen); resync.
    SocketClosed(s);
    return;
  }
  uint32_t want = EPOLLIN | (mosquitto_want_write(s.mosq) ? uint32_t{EPOLLOUT} : 0u);
  if (want == s.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &s;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev) == 0) s.events = want;
}

void MqttTransport::Flush() {
  // Handlers may mark more slots dirty while we go; index, do not iterate.
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Slot& s = *slots_[dirty_[i]];
    s.dirty = false;
    if (!s.mosq) continue;
    if (s.fd >= 0 && s.connected && mosquitto_want_write(s.mosq)) {
      mosquitto_loop_write(s.mosq, 1);
    }
    UpdateEvents(s);
  }
  dirty_.clear();
}

void MqttTransport::KeepAlive() {
  // Every 100 ms a tenth of the clients: each is checked once a second.
  size_t n = slots_.size() / 10 + 1;
  for (size_t i = 0; i < n && !slots_.empty(); ++i) {
    misc_cursor_ = (misc_cursor_ + 1) % slots_.size();
    Slot* s = slots_[misc_cursor_].get();
    if (!s || !s->mosq || s->fd < 0) continue;
    mosquitto_loop_misc(s->mosq);
    MarkDirty(*s);
  }
}

void MqttTransport::RunUntil(double until) {
  epoll_event events[512];
  for (;;) {
    Flush();
    DestroyIdle();
    double now = Now();
    if (now - last_misc_ >= 0.1) {
      last_misc_ = now;
      KeepAlive();
      Flush();
    }
    double wait = until - now;
    int timeout_ms = wait <= 0 ? 0 : static_cast<int>(std::min(wait * 1000 + 0.999, 100.0));
    int n = epoll_wait(epoll_fd_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Slot& s = *static_cast<Slot*>(events[i].data.ptr);
      if (s.fd < 0) continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        mosquitto_loop_read(s.mosq, 1);
      }
      if (s.fd >= 0 && (events[i].events & EPOLLOUT)) {
        mosquitto_loop_write(s.mosq, 1);
      }
      // loop_read/loop_write report a lost connection through the disconnect
      // callback, which already cleaned up.
      MarkDirty(s);
    }
    if (*stop_ || Now() >= until) break;
  }
  Flush();
}

std::string MqttTransport::Status() const {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "conn=%d sockets=%d rx=%llu lost_conn=%llu lost_pub=%llu connect_fail=%llu",
                connected_, open_sockets_, static_cast<unsigned long long>(received_),
                static_cast<unsigned long long>(lost_connections_),
                static_cast<unsigned long long>(lost_publishes_),
                static_cast<unsigned long long>(connect_failures_ + create_failures_));
  return buf;
}

}  // namespace fleetsim
