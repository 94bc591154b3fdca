// engine_replay: feeds a publish stream recorded by `fleetsim --dump` into an
// Engine in-process, the way the companion does (each record copied out of
// the ring and decoded, then Observe()), and reports
//   - CPU: ns per observation for each pass over the stream (the real mix:
//     heartbeats, requests, answers, errors, boots, other kinds), and
//   - memory (--memory): the heap the engine holds after each pass, from
//     mallinfo2() (uordblks) deltas, and where it goes by table
//     (Engine::MemoryUsage()).
//
//   build/tools/fleetsim/fleetsim --dump fleet.jsonl --devices 8000 --symbols 2000 --duration 1200
//   build/tools/bench/engine_replay --passes 3 --memory fleet.jsonl
//
// Pass k replays the stream shifted by k times its length, so the fleet
// keeps running; pass 1 includes the tables' growth, later passes are the
// steady state. No snapshot is built (that is the companion's other work).
#include <getopt.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/companion/observation_record.h"
#include "src/engine/engine.h"
#include "src/exposition/text_writer.h"
#include "src/http/metrics_cache.h"
#include "src/ring/shared_region.h"
#include "tkmprom/config.h"
#include "tkmprom/topic.h"

namespace {

using tkmprom::MessageKind;

const char kUsage[] =
    "Usage: engine_replay [OPTION]... FILE\n"
    "Feeds the stream recorded by 'fleetsim --dump FILE' into an Engine in-process\n"
    "and reports ns per observation per pass (and the engine's memory).\n"
    "\n"
    "  --passes N     replays of the stream, each shifted by its length (3)\n"
    "  --memory       report the engine's heap (mallinfo2) and its parts after each pass,\n"
    "                 then what a snapshot and its renders (plain + gzip) add\n"
    "  --rate N       stamp the publishes N per second, as a replay at that rate\n"
    "                 reaches the broker, instead of at their recorded times\n"
    "  --metrics P    after each pass k, write the exposition (0.0.4 text) of a\n"
    "                 snapshot to file P.k, to compare the exported numbers of builds\n"
    "  --help         this text\n";

size_t HeapInUse() { return mallinfo2().uordblks; }

double MiB(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

void PrintMemory(const tkmprom::EngineMemory& m, size_t measured) {
  struct Row {
    const char* name;
    size_t bytes;
  };
  const Row rows[] = {
      {"devices: entries", m.device_entries},
      {"devices: strings", m.device_strings},
      {"devices: request slots", m.device_slots},
      {"devices: per-symbol counts", m.device_per_symbol},
      {"devices: index", m.device_index},
      {"devices: labels", m.device_labels},
      {"symbols: entries", m.symbol_entries},
      {"symbols: names", m.symbol_names},
      {"symbols: histograms", m.symbol_buckets},
      {"symbols: windows+sketches", m.symbol_windows},
      {"symbols: index", m.symbol_index},
      {"symbols: untracked backends", m.untracked_backends},
      {"backends", m.backends},
      {"recent timeouts", m.recent_timeouts},
      {"negative topics", m.negative_topics},
  };
  std::printf("  %zu devices, %zu symbol labels\n", m.devices, m.symbols);
  for (const Row& r : rows) std::printf("  %-30s %9.3f MiB\n", r.name, MiB(r.bytes));
  std::printf("  %-30s %9.3f MiB\n", "accounted total", MiB(m.Total()));
  std::printf("  %-30s %9.3f MiB (malloc overhead, parser, ...)\n", "measured - accounted",
              MiB(measured) - MiB(m.Total()));
}

}  // namespace

int main(int argc, char** argv) {
  int passes = 3;
  bool memory = false;
  double rate = 0;
  std::string metrics_prefix;
  static const struct option kLong[] = {
      {"passes", required_argument, nullptr, 'p'}, {"memory", no_argument, nullptr, 'm'},
      {"rate", required_argument, nullptr, 'r'},   {"metrics", required_argument, nullptr, 'x'},
      {"help", no_argument, nullptr, 'H'},         {nullptr, 0, nullptr, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'p':
        passes = std::atoi(optarg);
        break;
      case 'm':
        memory = true;
        break;
      case 'r':
        rate = std::atof(optarg);
        break;
      case 'x':
        metrics_prefix = optarg;
        break;
      case 'H':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs("Try 'engine_replay --help'.\n", stderr);
        return 2;
    }
  }
  if (optind + 1 != argc || passes < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::ifstream in(argv[optind]);
  if (!in) {
    std::fprintf(stderr, "engine_replay: cannot read %s\n", argv[optind]);
    return 1;
  }

  // The stream as ring records (header, client id, topic, payload), back to
  // back; offsets[i] is where record i starts.
  std::string arena;
  std::vector<size_t> offsets;
  size_t max_record = 0;
  int64_t last_ns = 0;
  uint64_t kinds[tkmprom::kMessageKindCount] = {};
  std::vector<int64_t> recorded_ns;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("topic") || !j.contains("payload") || !j.contains("t")) {
      std::fprintf(stderr, "engine_replay: line %zu: not a fleetsim dump line\n",
                   offsets.size() + 1);
      return 1;
    }
    const std::string topic = j["topic"].get<std::string>();
    const std::string payload = j["payload"].get<std::string>();
    const std::string client = j.value("client", std::string());
    const MessageKind kind = tkmprom::ClassifyTopic(topic, /*default_device_pattern=*/true);
    ++kinds[static_cast<int>(kind)];
    tkmprom::ObservationRecordHeader h{};
    h.timestamp_ns = std::llround(j["t"].get<double>() * 1e9);
    last_ns = std::max(last_ns, h.timestamp_ns);
    recorded_ns.push_back(h.timestamp_ns);
    h.payload_size = static_cast<uint32_t>(payload.size());
    h.payload_len = tkmprom::KindNeedsPayload(kind) ? static_cast<uint32_t>(payload.size()) : 0;
    if (h.payload_len > tkmprom::kMaxPayloadBytes) {
      h.payload_len = tkmprom::kMaxPayloadBytes;
      h.flags |= tkmprom::kPayloadTruncated;
    }
    h.client_id_len = static_cast<uint16_t>(client.size());
    h.topic_len = static_cast<uint16_t>(topic.size());
    h.kind = static_cast<uint8_t>(kind);
    offsets.push_back(arena.size());
    arena.append(reinterpret_cast<const char*>(&h), sizeof(h));
    arena += client;
    arena += topic;
    arena.append(payload, 0, h.payload_len);
    max_record = std::max(max_record, arena.size() - offsets.back());
  }
  if (offsets.empty()) {
    std::fprintf(stderr, "engine_replay: %s holds no publishes\n", argv[optind]);
    return 1;
  }
  offsets.push_back(arena.size());
  const size_t n = offsets.size() - 1;
  if (rate > 0) {
    for (size_t i = 0; i < n; ++i)
      recorded_ns[i] = std::llround(static_cast<double>(i) * 1e9 / rate);
    last_ns = recorded_ns.empty() ? 0 : recorded_ns.back();
  }
  std::printf("stream: %zu publishes over %.1f s;", n, last_ns / 1e9);
  for (int k = 0; k < tkmprom::kMessageKindCount; ++k) {
    if (kinds[k] != 0)
      std::printf(" %s %llu", tkmprom::MessageKindName(static_cast<MessageKind>(k)),
                  static_cast<unsigned long long>(kinds[k]));
  }
  std::printf("\n");

  // A pass's length: the stream plus a second, so passes do not overlap.
  const int64_t period_ns = last_ns + 1'000'000'000;
  const int64_t base_ns = 1'000'000'000'000;
  std::vector<char> record(max_record);

  const size_t heap_before = HeapInUse();
  tkmprom::Config config;
  tkmprom::Engine engine(config);
  for (int pass = 0; pass < passes; ++pass) {
    // Stamp this pass's times (outside the timed loop).
    const int64_t shift = base_ns + pass * period_ns;
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = recorded_ns[i] + shift;
      std::memcpy(
          arena.data() + offsets[i] + offsetof(tkmprom::ObservationRecordHeader, timestamp_ns), &t,
          sizeof(t));
    }
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) {
      // As the companion: copy the record out of the ring, decode, observe.
      const uint32_t size = static_cast<uint32_t>(offsets[i + 1] - offsets[i]);
      std::memcpy(record.data(), arena.data() + offsets[i], size);
      tkmprom::ObservationView view;
      if (tkmprom::DecodeObservation(record.data(), size, &view)) {
        engine.Observe(tkmprom::ToObservation(view));
      }
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("pass %d: %zu observations in %.3f s = %.1f ns each\n", pass + 1, n, s,
                s * 1e9 / static_cast<double>(n));
    if (!metrics_prefix.empty()) {
      // Outside the timed loop; a snapshot does not change the engine.
      std::string text;
      tkmprom::RenderExposition(*engine.BuildSnapshot({}), tkmprom::ExpositionFormat::kText004,
                                &text);
      const std::string path = metrics_prefix + "." + std::to_string(pass + 1);
      std::ofstream out(path, std::ios::binary);
      out << text;
      if (!out) {
        std::fprintf(stderr, "engine_replay: cannot write %s\n", path.c_str());
        return 1;
      }
    }
    if (memory) {
      const size_t measured = HeapInUse() - heap_before;
      std::printf("engine heap after pass %d: %.3f MiB (mallinfo2 uordblks delta)\n", pass + 1,
                  MiB(measured));
      PrintMemory(engine.MemoryUsage(), measured);
    }
  }
  if (memory) {
    // What /metrics adds: one snapshot, then both encodings of its render.
    engine.Advance(base_ns + (passes - 1) * period_ns + last_ns);
    const size_t before_snapshot = HeapInUse();
    std::shared_ptr<const tkmprom::Snapshot> snapshot = engine.BuildSnapshot({});
    const size_t snapshot_bytes = HeapInUse() - before_snapshot;
    tkmprom::MetricsCache cache;
    cache.Prepare(snapshot);
    const size_t renders_bytes = HeapInUse() - before_snapshot - snapshot_bytes;
    std::printf("snapshot: %.3f MiB (%zu symbols, %zu devices)\n", MiB(snapshot_bytes),
                snapshot->symbols.size(), snapshot->devices.size());
    std::printf("renders (0.0.4 plain + gzip, cached): %.3f MiB, of which bodies %.3f MiB\n",
                MiB(renders_bytes), MiB(cache.MemoryBytes()));
    const struct mallinfo2 mi = mallinfo2();
    std::printf("allocator: %.3f MiB in use, %.3f MiB free in the heap, %.3f MiB mapped blocks\n",
                MiB(mi.uordblks), MiB(mi.fordblks), MiB(mi.hblkhd));
  }
  return 0;
}
