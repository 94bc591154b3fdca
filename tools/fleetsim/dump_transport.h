// DumpTransport: records the publish stream instead of sending it, one JSON
// line per publish, on a simulated clock that jumps from event to event.
// Every connect succeeds at once and every publish is accepted at once.
//
// Line format: {"t":<seconds since start>,"client":"<id>","qos":0,
// "retain":false,"topic":"<topic>","payload":"<payload, JSON-escaped>"}
//
// Thread safety: one thread.
#ifndef FLEETSIM_DUMP_TRANSPORT_H_
#define FLEETSIM_DUMP_TRANSPORT_H_

#include <cstdio>
#include <string>
#include <vector>

#include "transport.h"

namespace fleetsim {

class DumpTransport : public Transport {
 public:
  // Writes to `file` (not owned).
  DumpTransport(std::FILE* file, TransportSink* sink) : file_(file), sink_(sink) {}

  bool AddClient(int client, const ClientSpec& spec) override;
  void Connect(int client) override;
  void Disconnect(int client) override;
  bool Publish(int client, const std::string& topic, const std::string& payload, int qos,
               bool retain, uint32_t tag) override;
  double Now() const override { return now_; }
  void RunUntil(double until) override {
    if (until > now_) now_ = until;
  }

 private:
  std::FILE* file_;
  TransportSink* sink_;
  double now_ = 0;
  std::vector<std::string> ids_;
  std::vector<bool> connected_;
  std::string line_;
};

// Appends `s` to `out` as the body of a JSON string (no quotes).
void AppendJsonEscaped(const std::string& s, std::string* out);

}  // namespace fleetsim

#endif  // FLEETSIM_DUMP_TRANSPORT_H_
