// A time-ordered queue of simulation events; equal times run in the order
// they were scheduled, which keeps runs with the same seed identical.
//
// Thread safety: owned by the simulation thread.
#ifndef FLEETSIM_EVENT_QUEUE_H_
#define FLEETSIM_EVENT_QUEUE_H_

#include <cstdint>
#include <queue>
#include <vector>

namespace fleetsim {

enum class EventType : uint8_t {
  kConnect,         // device: open the MQTT connection (start ramp, wake-up, reconnect)
  kConnected,       // device: CONNACK arrived
  kDisconnected,    // device: connection closed (arg: 1 expected)
  kTick,            // device: update timer (gen)
  kBurstStep,       // device: next playlist request (arg: entry, gen)
  kBurstEnd,        // device: end of a burst (gen)
  kSleep,           // battery device: go to sleep unless woken again (gen)
  kReceive,         // device: a downlink arrived (arg: DeviceEffect)
  kPoll,            // web: DEVICESTATUS poll
  kPollAnswer,      // device: heartbeat answering the poll
  kBoot,            // device: spontaneous or scheduled boot
  kBootResend,      // device: TICKRMETERBOOT resend (gen)
  kBackendPublish,  // backend/stream/web: a planned publish (ref: job)
  kPlaylistChange,  // web: push a changed playlist to a random device
  kFirmwareOffer,   // operator: retained firmware offer, cleared later (arg: 1 clear)
  kProgress,        // --progress line
};

struct Event {
  double time;
  uint64_t seq;
  EventType type;
  int device;
  int arg;
  uint64_t gen;
  uint32_t ref;
};

class EventQueue {
 public:
  void Push(double time, EventType type, int device = -1, int arg = 0, uint64_t gen = 0,
            uint32_t ref = 0) {
    heap_.push(Event{time, seq_++, type, device, arg, gen, ref});
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.top(); }
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t seq_ = 0;
};

}  // namespace fleetsim

#endif  // FLEETSIM_EVENT_QUEUE_H_
