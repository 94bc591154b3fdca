// JSON-lines recording of the publish stream.
#include "dump_transport.h"

namespace fleetsim {

void AppendJsonEscaped(const std::string& s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          *out += kHex[c >> 4];
          *out += kHex[c & 15];
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
}

bool DumpTransport::AddClient(int client, const ClientSpec& spec) {
  if (client >= static_cast<int>(ids_.size())) {
    ids_.resize(client + 1);
    connected_.resize(client + 1, false);
  }
  ids_[client] = spec.client_id;
  return true;
}

void DumpTransport::Connect(int client) {
  connected_[client] = true;
  sink_->OnConnected(client, now_);
}

void DumpTransport::Disconnect(int client) {
  if (!connected_[client]) return;
  connected_[client] = false;
  sink_->OnDisconnected(client, now_, true);
}

bool DumpTransport::Publish(int client, const std::string& topic, const std::string& payload,
                            int qos, bool retain, uint32_t tag) {
  if (!connected_[client]) return false;
  char head[64];
  std::snprintf(head, sizeof head, "{\"t\":%.6f,\"client\":\"", now_);
  line_ = head;
  AppendJsonEscaped(ids_[client], &line_);
  line_ += "\",\"qos\":";
  line_ += static_cast<char>('0' + qos);
  line_ += retain ? ",\"retain\":true,\"topic\":\"" : ",\"retain\":false,\"topic\":\"";
  AppendJsonEscaped(topic, &line_);
  line_ += "\",\"payload\":\"";
  AppendJsonEscaped(payload, &line_);
  line_ += "\"}\n";
  std::fwrite(line_.data(), 1, line_.size(), file_);
  sink_->OnPublished(tag, now_);
  return true;
}

}  // namespace fleetsim
