// What the traffic generator needs from the outside world: connect and
// disconnect clients, publish, tell the time, and report back when the broker
// accepted a publish. Two implementations: MqttTransport (real broker,
// wall clock) and DumpTransport (JSON lines, simulated clock).
//
// Thread safety: a transport and its sink are used by one thread. Sink calls
// may happen inside Publish/Connect (dump) or inside Poll (MQTT); a sink must
// not call back into the transport from them.
#ifndef FLEETSIM_TRANSPORT_H_
#define FLEETSIM_TRANSPORT_H_

#include <cstdint>
#include <string>

namespace fleetsim {

class TransportSink {
 public:
  virtual ~TransportSink() = default;
  virtual void OnConnected(int client, double now) = 0;
  // `expected` is false for a lost connection or a refused CONNECT.
  virtual void OnDisconnected(int client, double now, bool expected) = 0;
  // The publish tagged `tag` was written (QoS 0) or acknowledged (QoS 1).
  virtual void OnPublished(uint32_t tag, double now) = 0;
  // The publish tagged `tag` will never be sent (connection lost first).
  virtual void OnPublishLost(uint32_t tag) = 0;
};

struct ClientSpec {
  std::string client_id;
  int keepalive = 15;
  bool device = false;  // subscribes to its topics when connected
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Registers client number `client` (dense, from 0). Returns false on error.
  virtual bool AddClient(int client, const ClientSpec& spec) = 0;
  virtual void Connect(int client) = 0;
  virtual void Disconnect(int client) = 0;
  // Returns false if the publish was refused at once (not connected).
  virtual bool Publish(int client, const std::string& topic, const std::string& payload, int qos,
                       bool retain, uint32_t tag) = 0;
  virtual double Now() const = 0;
  // Services I/O until `until` (simulated: just advances the clock), or
  // until interrupted by a signal.
  virtual void RunUntil(double until) = 0;
  // Called about once a second; returns a short status for --progress.
  virtual std::string Status() const { return {}; }
  // True once every client added so far has disconnected (MQTT); dump: true.
  virtual bool AllDisconnected() const { return true; }
};

}  // namespace fleetsim

#endif  // FLEETSIM_TRANSPORT_H_
