// The correlator's deadline queue (src/engine/correlator.h, issue 13): it
// holds exactly the pending requests, so superseded, answered, timed-out and
// forgotten requests leave nothing behind, whatever the request rate.
// Driven on the Correlator itself, with a fake clock in nanoseconds.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "src/engine/correlator.h"
#include "src/engine/device_registry.h"
#include "src/engine/symbol_table.h"
#include "tkmprom/config.h"

namespace tkmprom {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kT0 = 1'000'000 * kMs;

// A Correlator with its tables, as EngineTables wires them.
struct Tables {
  explicit Tables(const Config& c)
      : config(c),
        symbols(c),
        devices(c),
        backends(symbols.bounds()),
        correlator(c, &symbols, &devices, &backends) {}

  uint32_t Device(const std::string& id, int64_t now_ns) { return devices.Touch(id, now_ns); }
  uint64_t Pending() const {
    uint64_t n = 0;
    for (const tkmprom::Device& d : devices.entries()) n += d.in_use ? d.pending : 0;
    return n;
  }
  // requests - (responses + errors + timeouts + superseded + pending), all
  // labels, plus the same over all backends.
  int64_t LedgerGap() const {
    int64_t gap = 0;
    for (const SymbolEntry& e : symbols.entries()) {
      if (!e.in_use) continue;
      gap += static_cast<int64_t>(e.requests) -
             static_cast<int64_t>(e.responses + e.errors + e.timeouts + e.superseded + e.pending);
    }
    for (int b = 0; b < kBackendCount; ++b) {
      const BackendLedger::Entry& e = backends.Get(static_cast<Backend>(b));
      gap += static_cast<int64_t>(e.requests) -
             static_cast<int64_t>(e.responses + e.errors + e.timeouts + e.superseded + e.pending);
    }
    return gap;
  }

  Config config;
  SymbolTable symbols;
  DeviceRegistry devices;
  BackendLedger backends;
  Correlator correlator;
};

DeviceMessageFields PlaylistAnswer(std::string_view symbol) {
  DeviceMessageFields m;
  m.type = "UPDATE";
  m.symbol = symbol;
  m.is_playlist = true;
  return m;
}

TEST(DeadlineQueueTest, SupersedingFloodKeepsOneQueuedDeadline) {
  Tables t{Config()};
  const uint32_t dev = t.Device("A1B2C3D4E5F6", kT0);
  size_t most = 0;
  // 400,000 requests 50 µs apart: 20 s, all within request_timeout (30 s).
  for (int64_t i = 0; i < 400'000; ++i) {
    t.correlator.OnRequest(dev, "AAPL", kT0 + i * 50'000);
    most = std::max(most, t.correlator.queued_deadlines());
  }
  EXPECT_EQ(most, 1u);
  EXPECT_EQ(t.symbols.Get(t.symbols.Intern("AAPL", kT0)).superseded, 399'999u);
  // The one pending request still times out 30 s after the last request.
  const int64_t last = kT0 + 399'999 * int64_t{50'000};
  t.correlator.Sweep(last + 30'000 * kMs - 1);
  EXPECT_EQ(t.Pending(), 1u);
  t.correlator.Sweep(last + 30'000 * kMs);
  EXPECT_EQ(t.Pending(), 0u);
  EXPECT_EQ(t.correlator.queued_deadlines(), 0u);
  EXPECT_EQ(t.LedgerGap(), 0);
}

TEST(DeadlineQueueTest, AnsweredRequestsLeaveNothingQueued) {
  Tables t{Config()};
  const uint32_t dev = t.Device("A1B2C3D4E5F6", kT0);
  for (int i = 0; i < 1000; ++i) {
    t.correlator.OnRequest(dev, "AAPL", kT0 + i * kMs);
    t.correlator.OnRequest(dev, "MSFT", kT0 + i * kMs);
    EXPECT_EQ(t.correlator.queued_deadlines(), 2u);
    t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("MSFT"),
                          kT0 + i * kMs + 100);
    t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("AAPL"),
                          kT0 + i * kMs + 200);
    ASSERT_EQ(t.correlator.queued_deadlines(), 0u) << i;
  }
  EXPECT_EQ(t.symbols.Get(t.symbols.Intern("AAPL", kT0)).responses, 1000u);
}

TEST(DeadlineQueueTest, OverdueAnswerAndForgottenDeviceLeaveNothingQueued) {
  Tables t{Config()};
  const uint32_t a = t.Device("A1B2C3D4E5F6", kT0);
  const uint32_t b = t.Device("0123456789AB", kT0);
  t.correlator.OnRequest(a, "AAPL", kT0);
  t.correlator.OnRequest(b, "AAPL", kT0);
  t.correlator.OnRequest(b, "MSFT", kT0);
  EXPECT_EQ(t.correlator.queued_deadlines(), 3u);
  // Past its deadline, not swept: the answer settles the timeout first.
  t.correlator.OnAnswer(a, AnswerKind::kPlaylistUpdate, PlaylistAnswer("AAPL"), kT0 + 31'000 * kMs);
  EXPECT_EQ(t.correlator.queued_deadlines(), 2u);
  t.correlator.ForgetDevice(b, kT0 + 31'000 * kMs);
  t.devices.Remove(b);
  EXPECT_EQ(t.correlator.queued_deadlines(), 0u);
  EXPECT_EQ(t.correlator.unmatched(Unmatched::kLate), 1u);
  // The freed entry serves a new device, whose request times out normally.
  const uint32_t c = t.Device("FFFFFFFFFFFF", kT0 + 32'000 * kMs);
  t.correlator.OnRequest(c, "AAPL", kT0 + 32'000 * kMs);
  t.correlator.Sweep(kT0 + 62'000 * kMs);
  EXPECT_EQ(t.correlator.queued_deadlines(), 0u);
  EXPECT_EQ(t.symbols.Get(t.symbols.Intern("AAPL", kT0)).timeouts, 3u);  // a, b, c
  EXPECT_EQ(t.LedgerGap(), 0);
}

// Random traffic of a small fleet: at every step the queue holds exactly the
// pending requests, which the per-device slot cap bounds, and the ledger adds
// up; a request never times out before its deadline, and is swept in the
// first Sweep() at or after it.
TEST(DeadlineQueueTest, QueueHoldsExactlyThePendingRequests) {
  Config c;
  c.request_timeout_s = 2;
  Tables t{c};
  std::mt19937 rng(13);
  const char* const kSymbols[] = {"", "AAPL", "MSFT", "BTC/USD", "ETH"};
  std::vector<uint32_t> ids;
  for (int d = 0; d < 8; ++d) ids.push_back(t.Device("DEV" + std::to_string(d), kT0));
  int64_t now = kT0;
  uint64_t timeouts_seen = 0;
  for (int step = 0; step < 200'000; ++step) {
    now += static_cast<int64_t>(rng() % 40) * kMs;
    const uint32_t dev = ids[rng() % ids.size()];
    const char* symbol = kSymbols[rng() % 5];
    switch (rng() % 6) {
      case 0:
      case 1:
      case 2:
        t.correlator.OnRequest(dev, symbol, now);
        break;
      case 3:
        t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer(symbol), now);
        break;
      case 4: {
        // Every pending request whose deadline passed must go in this sweep.
        t.correlator.Sweep(now);
        for (uint32_t id : ids) {
          for (const RequestSlot& s : t.devices.Get(id).slots) {
            if (s.state == RequestSlot::State::kPending) {
              ASSERT_GT(s.time_ns + 2'000 * kMs, now) << step;
            }
          }
        }
        break;
      }
      case 5:
        if (rng() % 50 == 0) t.correlator.ForgetDevice(dev, now);
        break;
    }
    ASSERT_EQ(t.correlator.queued_deadlines(), t.Pending()) << step;
    ASSERT_LE(t.correlator.queued_deadlines(), ids.size() * Correlator::kMaxSlotsPerDevice);
    ASSERT_EQ(t.LedgerGap(), 0) << step;
  }
  for (const SymbolEntry& e : t.symbols.entries()) timeouts_seen += e.in_use ? e.timeouts : 0;
  EXPECT_GT(timeouts_seen, 1000u);
}

// Records (correlator.h, issue 15): a device answering the same symbols over
// and over within request_timeout keeps one record per outcome and symbol,
// the latest, and duplicates and late answers are classified as before.
TEST(DeadlineQueueTest, RecordsOnePerOutcomeAndSymbol) {
  Tables t{Config()};
  const uint32_t dev = t.Device("A1B2C3D4E5F6", kT0);
  // 200 rounds 100 ms apart (20 s, within request_timeout): AAPL answered,
  // MSFT answered, "aapl" (another spelling, another record) answered.
  for (int64_t i = 0; i < 200; ++i) {
    const int64_t now = kT0 + i * 100 * kMs;
    t.correlator.OnRequest(dev, "AAPL", now);
    t.correlator.OnRequest(dev, "MSFT", now);
    t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("MSFT"), now + 1);
    t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("AAPL"), now + 2);
  }
  // A request that times out, twice: one timed-out record.
  t.correlator.OnRequest(dev, "TSLA", kT0);
  t.correlator.Sweep(kT0 + 30'000 * kMs);
  t.correlator.OnRequest(dev, "TSLA", kT0 + 30'000 * kMs);
  t.correlator.Sweep(kT0 + 60'000 * kMs);
  const tkmprom::Device& d = t.devices.Get(dev);
  EXPECT_LE(d.slots.size(), 4u);
  size_t records = 0;
  for (const RequestSlot& s : d.slots) records += s.state != RequestSlot::State::kFree;
  EXPECT_EQ(records, 3u);  // AAPL answered, MSFT answered, TSLA timed out
  EXPECT_EQ(t.correlator.unmatched(Unmatched::kDuplicate), 0u);
  // The AAPL record moved forward with each answer: at 60 s it is 40 s
  // after the first answer but 20.1 s after the last, so still a duplicate.
  t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("aapl"),
                        kT0 + 49'000 * kMs);
  EXPECT_EQ(t.correlator.unmatched(Unmatched::kDuplicate), 1u);
  // Past request_timeout after the last AAPL answer (19.9 s): unsolicited.
  t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("AAPL"),
                        kT0 + 49'901 * kMs);
  EXPECT_EQ(t.correlator.unmatched(Unmatched::kUnsolicited), 1u);
  // TSLA's record is that of its second timeout, at 60 s: a late answer.
  t.correlator.OnAnswer(dev, AnswerKind::kPlaylistUpdate, PlaylistAnswer("TSLA"),
                        kT0 + 85'000 * kMs);
  EXPECT_EQ(t.correlator.unmatched(Unmatched::kLate), 1u);
  EXPECT_EQ(t.LedgerGap(), 0);
}

}  // namespace
}  // namespace tkmprom
