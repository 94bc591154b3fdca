// MqttTransport: thousands of libmosquitto clients driven from one thread by
// one epoll loop through the external-loop API (mosquitto_socket,
// mosquitto_loop_read/_write/_misc, mosquitto_want_write). No client thread,
// no mosquitto_loop_start.
//
// Each libmosquitto 2.0 client holds an internal socket pair besides its
// connection (3 descriptors), so a client object exists only while its
// device is connected or connecting: sleeping battery devices cost nothing,
// and 8,000 devices fit a 20,000 descriptor limit.
//
// A publish counts as accepted when libmosquitto reports it sent: written to
// the socket for QoS 0, acknowledged for QoS 1 (on_publish).
//
// Thread safety: one thread; construct, use and destroy on it.
#ifndef FLEETSIM_MQTT_TRANSPORT_H_
#define FLEETSIM_MQTT_TRANSPORT_H_

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "transport.h"

struct mosquitto;
struct mosquitto_message;

namespace fleetsim {

class MqttTransport : public Transport {
 public:
  // `stop` is polled; a signal handler may set it.
  MqttTransport(std::string host, int port, bool subscribe, TransportSink* sink,
                const volatile std::sig_atomic_t* stop);
  ~MqttTransport() override;
  MqttTransport(const MqttTransport&) = delete;
  MqttTransport& operator=(const MqttTransport&) = delete;

  // False if epoll could not be created.
  bool ok() const { return epoll_fd_ >= 0; }

  bool AddClient(int client, const ClientSpec& spec) override;
  void Connect(int client) override;
  void Disconnect(int client) override;
  bool Publish(int client, const std::string& topic, const std::string& payload, int qos,
               bool retain, uint32_t tag) override;
  double Now() const override;
  void RunUntil(double until) override;
  std::string Status() const override;
  bool AllDisconnected() const override { return open_sockets_ == 0; }

  uint64_t received() const { return received_; }
  int connected() const { return connected_; }

 private:
  struct Slot;
  static void OnConnectCb(mosquitto* m, void* obj, int rc);
  static void OnDisconnectCb(mosquitto* m, void* obj, int rc);
  static void OnPublishCb(mosquitto* m, void* obj, int mid);
  static void OnMessageCb(mosquitto* m, void* obj, const ::mosquitto_message* msg);

  bool Create(Slot& slot);
  void QueueIdle(Slot& slot);
  void DestroyIdle();
  void Watch(Slot& slot);
  void UpdateEvents(Slot& slot);
  void MarkDirty(Slot& slot);
  void Flush();
  void KeepAlive();
  void SocketClosed(Slot& slot);

  std::string host_;
  int port_;
  bool subscribe_;
  TransportSink* sink_;
  const volatile std::sig_atomic_t* stop_;
  int epoll_fd_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<int> dirty_;
  std::vector<int> idle_;  // closed clients to destroy outside callbacks
  size_t misc_cursor_ = 0;
  double last_misc_ = 0;
  int connected_ = 0;
  int open_sockets_ = 0;
  uint64_t received_ = 0;
  uint64_t lost_connections_ = 0;
  uint64_t lost_publishes_ = 0;
  uint64_t refused_publishes_ = 0;
  uint64_t connect_failures_ = 0;
  uint64_t create_failures_ = 0;
};

}  // namespace fleetsim

#endif  // FLEETSIM_MQTT_TRANSPORT_H_
