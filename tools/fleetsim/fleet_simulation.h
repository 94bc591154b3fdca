// The traffic generator: runs the device fleet (protocol reference §3, §6.2),
// the status poll, boots and the simulated backend (§6.3) as events on one
// queue, publishes through a Transport, and feeds every accepted publish into
// the GroundTruth.
//
// Clients: devices are 0..N-1 (client id = device id); then the backend pool
// (`sim-backend-<n>`), the web backend (`sim-web-0`, QoS 1: poll, pushes,
// firmware offers) and the quote stream service (`sim-stream-0`).
//
// Stop: after --duration or when *stop is set, devices fall silent; the
// backend keeps answering for --drain seconds, later replies are cancelled
// and recorded, then every client disconnects.
//
// Thread safety: one thread. The TransportSink methods only record and
// schedule; they never call the transport.
#ifndef FLEETSIM_FLEET_SIMULATION_H_
#define FLEETSIM_FLEET_SIMULATION_H_

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend_model.h"
#include "device_model.h"
#include "event_queue.h"
#include "ground_truth.h"
#include "options.h"
#include "publish_kind.h"
#include "random.h"
#include "symbol_pool.h"
#include "transport.h"

namespace fleetsim {

class FleetSimulation : public TransportSink {
 public:
  FleetSimulation(const Options& options, const volatile std::sig_atomic_t* stop);

  // Must be called once before Run.
  void set_transport(Transport* transport) { transport_ = transport; }
  // Registers the clients and runs to the end. Returns false if clients
  // could not be created.
  bool Run();
  // The complete summary document.
  nlohmann::json Summary() const;

  // TransportSink.
  void OnConnected(int client, double now) override;
  void OnDisconnected(int client, double now, bool expected) override;
  void OnPublished(uint32_t tag, double now) override;
  void OnPublishLost(uint32_t tag) override;

  const GroundTruth& ground_truth() const { return truth_; }
  const std::vector<Device>& fleet() const { return fleet_; }

 private:
  // What a publish was, kept until the transport reports it sent or lost.
  struct Record {
    Kind kind = Kind::kOther;
    int device = -1;
    int entry = -2;  // requests: -1 no symbol, else playlist index
    std::string key;
    ReplyInfo reply;
    DeviceEffect effect = DeviceEffect::kNone;
    bool extra_copy = false;
    bool resend = false;
    uint32_t uptime = 0;
    bool in_use = false;
  };
  struct Job {
    Sender sender;
    Kind kind;
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
    uint32_t record;
  };

  uint32_t NewRecord(Record record);
  void FreeRecord(uint32_t tag);
  void Send(int client, const std::string& topic, const std::string& payload, int qos, bool retain,
            Record record);
  void Schedule(double when, PlannedPublish planned, int device, uint32_t request);

  void Dispatch(const Event& e, double now);
  void StartConnect(int client, double now);
  void DeviceConnected(int d, double now);
  void DeviceDisconnected(int d, double now, bool expected);
  void Tick(int d, uint64_t gen, double now);
  void Burst(int d, double now);
  void RequestEntry(int d, int entry, double now);
  void BurstEnd(int d, uint64_t gen, double now);
  void Sleep(int d, uint64_t gen);
  void Receive(int d, DeviceEffect effect, double now);
  void Boot(int d, int scheduled, uint64_t gen, double now);
  void PublishBoot(int d, bool resend);
  void BootResend(int d, uint64_t gen, double now);
  void Poll(double now);
  void HeartbeatAttempt(int d, double now);
  void PlaylistChange(double now);
  void FirmwareOffer(int arg, int d, double now);
  void BackendPublish(uint32_t job, double now);
  void Progress(double now);
  void BeginStop(double now);
  void Finish();

  const Options& options_;
  const volatile std::sig_atomic_t* stop_;
  Transport* transport_ = nullptr;
  SymbolPool pool_;
  std::vector<Device> fleet_;
  GroundTruth truth_;
  BackendModel backend_;
  EventQueue queue_;
  Rng rng_;
  int backend_base_ = 0;
  int web_client_ = 0;
  int stream_client_ = 0;
  std::vector<bool> service_connected_;  // non-device clients

  std::vector<Record> records_;
  std::vector<uint32_t> free_records_;
  std::vector<Job> jobs_;
  std::vector<uint32_t> free_jobs_;

  bool stopping_ = false;
  double stop_time_ = 0;
  double drain_end_ = 0;
  double end_time_ = 0;
  double ramp_end_ = 0;
  bool ramp_snapshot_taken_ = false;
  uint64_t sent_[kKindCount] = {};
  uint64_t sent_at_ramp_[kKindCount] = {};
  uint64_t sent_at_stop_[kKindCount] = {};
  uint64_t refused_[kKindCount] = {};
  uint64_t lost_[kKindCount] = {};
  uint64_t cancelled_[kKindCount] = {};
  uint64_t connects_ = 0, unexpected_disconnects_ = 0;
  int devices_connected_ = 0;
  int playlist_devices_ = 0;
  double max_lag_ = 0, max_lag_total_ = 0;
  uint64_t last_progress_sent_[kKindCount] = {};
  double last_progress_time_ = 0;
  double cpu_start_ = 0;
};

}  // namespace fleetsim

#endif  // FLEETSIM_FLEET_SIMULATION_H_
