// Reply decisions of the simulated backend.
#include "backend_model.h"

#include <algorithm>
#include <cmath>

#include "payloads.h"

namespace fleetsim {
namespace {

constexpr double kZ95 = 1.6448536269514722;

// Indexed by symbolType; 0 is the page streams (and electricity and music,
// which are served as pages). Assumptions, chosen so that the backends are
// told apart: protocol §6.3 gives one model for every source.
const BackendProfile kProfiles[kMaxSymbolType + 1] = {
    {"page", 1.3, 0.9, 0, 0},
    {"stock", 1.0, 1.0, 0, 0},
    {"crypto", 0.4, 0.7, 0, 0},
    {"forex", 0.7, 0.8, 0, 0},
    {"index", 1.0, 1.0, 0, 0},
    {"etf", 1.0, 1.0, 0, 0},
    {"commodity", 3.0, 1.3, 0.01, 0.005},  // after the HTTPSTREAMSTOCKS hop
    {"top10", 1.5, 0.8, 0, 0},
    {"electricity", 1.3, 0.9, 0, 0},
    {"option", 2.0, 1.0, 0, 0},
    {"custom_api", 2.0, 1.3, 0.08, 0.02},
    {"music", 1.3, 0.9, 0, 0},
    {"fxon", 0.7, 0.9, 0, 0},
};

}  // namespace

const BackendProfile& ProfileOf(int symbol_type) {
  return kProfiles[symbol_type >= 1 && symbol_type <= kMaxSymbolType ? symbol_type : 0];
}

BackendModel::BackendModel(const Options& options, const SymbolPool& pool, uint64_t seed)
    : options_(options), pool_(pool), rng_(SplitMix64(seed ^ 0x4241434b454e44ULL)) {
  sigma_ = std::log(options.latency_p95 / options.latency_median) / kZ95;
  cap_ = std::min(options.latency_cap, options.request_timeout - 2);
}

double BackendModel::DrawLatency(const BackendProfile& profile, double factor) {
  double v = options_.latency_median * profile.median_factor *
             std::exp(sigma_ * profile.spread_factor * rng_.Normal()) * factor;
  return std::clamp(v, options_.latency_min, cap_);
}

PlannedPublish BackendModel::QuoteReply(const Device& d, int entry, const char* type,
                                        uint32_t request) {
  PlannedPublish p;
  p.kind = Kind::kDeviceMessage;
  p.topic = d.id;
  p.effect = DeviceEffect::kAnswer;
  p.reply.for_request = request;
  if (d.mode == Mode::kPlaylist) {
    const Playlist& list = *d.playlist;
    int index = entry < 0 ? 0 : entry;
    // best/worst playlists quote the currently best/worst entry, while
    // symbolIndex still names the requested one (§2.4).
    int quoted = d.cycle_mode == 0 ? list[index].symbol : list[rng_.Below(list.size())].symbol;
    const Symbol& s = pool_.at(quoted);
    int symbol_index = index;
    if (entry >= 0 && d.cycle_mode == 0 && list[index].name != pool_.at(list[index].symbol).name) {
      symbol_index = -1;  // a mixed-case entry (see the header)
    }
    p.payload = PlaylistQuotePayload(d, list, symbol_index, s, type, rng_);
    p.reply.category = entry < 0 ? ReplyCategory::kNewAnswer : ReplyCategory::kPlaylistUpdate;
    p.reply.symbol = s.reply_symbol;
    p.reply.symbol_type = s.symbol_type;
    p.reply.playlist = d.playlist;
    p.reply.symbol_index = symbol_index;
  } else {
    const Symbol& s = pool_.at(d.symbol);
    p.payload = SingleQuotePayload(d, s, type, rng_);
    p.reply.category =
        std::string(type) == "NEW" ? ReplyCategory::kNewAnswer : ReplyCategory::kNoSymbolAnswer;
    p.reply.symbol = s.reply_symbol;
    p.reply.symbol_type = s.symbol_type;
  }
  return p;
}

void BackendModel::AddQuoteCopies(const Device& d, int entry, uint32_t request, bool late,
                                  double factor, const BackendProfile& profile,
                                  RequestDecision* out) {
  const char* type = (d.mode == Mode::kPlaylist && entry < 0) ? "NEW" : "UPDATE";
  const double t = options_.request_timeout;
  for (int k = 0; k < options_.duplicates; ++k) {
    PlannedPublish p = QuoteReply(d, entry, type, request);
    if (late) {
      double lo = options_.late_after;
      double hi = std::max(lo, std::min(lo + 20, 2 * t - options_.ambiguity_margin - 1));
      p.delay = rng_.Uniform(lo, hi);
    } else {
      p.delay = DrawLatency(profile, factor);
    }
    p.reply.injected_latency = p.delay;
    p.extra_copy = k > 0;
    bool alert = d.alerts && d.mode == Mode::kSingle;
    double delay = p.delay;
    out->publishes.push_back(std::move(p));
    if (alert) {
      PlannedPublish a;
      a.delay = delay + 0.002;
      a.kind = Kind::kAlert;
      a.topic = "ALERT/" + d.id;
      a.payload = AlertPayload(rng_);
      out->publishes.push_back(std::move(a));
    }
  }
}

RequestDecision BackendModel::OnRequest(const Device& d, int entry, uint32_t request) {
  RequestDecision out;
  const int k_copies = options_.duplicates;
  if (d.device_class == DeviceClass::kRemoved || d.device_class == DeviceClass::kUnknown) {
    bool removed = d.device_class == DeviceClass::kRemoved;
    for (int k = 0; k < k_copies; ++k) {
      PlannedPublish p;
      p.delay = DrawLatency(ProfileOf(kStock), 1);
      p.topic = d.id;
      p.payload = removed ? NoConfigPayload() : DeviceNotFoundPayload();
      p.reply.category = ReplyCategory::kError;
      p.reply.for_request = request;
      p.reply.injected_latency = p.delay;
      p.effect = DeviceEffect::kAnswer;
      p.extra_copy = k > 0;
      out.publishes.push_back(std::move(p));
    }
    return out;
  }
  if (d.mode == Mode::kPage) {
    // Page replies always come, with an error on failure (§2.6).
    bool error = rng_.Chance(0.02);
    for (int k = 0; k < k_copies; ++k) {
      PlannedPublish p;
      p.delay = DrawLatency(ProfileOf(0), 1);
      p.topic = d.id;
      p.payload = PagePayload(d, error);
      p.reply.category = error ? ReplyCategory::kPageError : ReplyCategory::kPageAnswer;
      p.reply.for_request = request;
      p.reply.injected_latency = p.delay;
      p.effect = DeviceEffect::kAnswer;
      p.extra_copy = k > 0;
      out.publishes.push_back(std::move(p));
    }
    return out;
  }
  int symbol_index =
      d.mode == Mode::kPlaylist ? (*d.playlist)[entry < 0 ? 0 : entry].symbol : d.symbol;
  const Symbol& s = pool_.at(symbol_index);
  const BackendProfile& profile = ProfileOf(s.symbol_type);
  if (s.fails || rng_.Chance(options_.noreply_share + profile.no_reply)) {
    out.no_reply = true;
    return out;
  }
  double factor = s.slow ? 5 : 1;
  if (d.mode == Mode::kPlaylist && d.cycle_mode != 0)
    factor *= static_cast<double>(d.playlist->size());
  out.late = rng_.Chance(options_.late_share + profile.late);
  if (s.commodity && !out.late) {
    // Delegated: each handler instance publishes the job; the stream service
    // answers each one later (§1.3 HTTPSTREAMSTOCKS, §6.3).
    for (int k = 0; k < k_copies; ++k) {
      PlannedPublish job;
      job.delay = rng_.Uniform(0.01, 0.05);
      job.kind = Kind::kHttpStream;
      job.topic = "HTTPSTREAMSTOCKS";
      job.payload = HttpStreamPayload(d, s);
      double job_delay = job.delay;
      out.publishes.push_back(std::move(job));
      const char* type = (d.mode == Mode::kPlaylist && entry < 0) ? "NEW" : "UPDATE";
      PlannedPublish p = QuoteReply(d, entry, type, request);
      p.sender = Sender::kStream;
      p.delay = std::min(job_delay + DrawLatency(profile, factor), cap_);
      p.reply.injected_latency = p.delay;
      p.extra_copy = k > 0;
      out.publishes.push_back(std::move(p));
    }
    return out;
  }
  AddQuoteCopies(d, entry, request, out.late, factor, profile, &out);
  return out;
}

std::vector<PlannedPublish> BackendModel::OnBoot(const Device& d) {
  std::vector<PlannedPublish> out;
  const int k_copies = options_.duplicates;
  for (int k = 0; k < k_copies; ++k) {
    PlannedPublish echo;
    echo.delay = rng_.Uniform(0.005, 0.05);
    echo.kind = Kind::kBooted;
    echo.topic = "DEVICE_BOOTED";
    echo.payload = BootPayload(d.id);
    out.push_back(std::move(echo));
  }
  if (rng_.Chance(options_.boot_drop_share)) return out;
  bool quote = d.device_class == DeviceClass::kNormal;
  if (quote && d.mode != Mode::kPage) {
    int first = d.mode == Mode::kPlaylist ? (*d.playlist)[0].symbol : d.symbol;
    if (pool_.at(first).fails) return out;  // the quote fetch fails: no answer at all
  }
  for (int k = 0; k < k_copies; ++k) {
    PlannedPublish p;
    if (d.device_class == DeviceClass::kUnclaimed) {
      p.topic = d.id;
      p.payload = DeviceRegPayload(rng_, 0);
      p.reply.category = ReplyCategory::kLifecycle;
      p.effect = DeviceEffect::kDeviceReg;
    } else if (!quote) {
      p.topic = d.id;
      p.payload =
          d.device_class == DeviceClass::kRemoved ? NoConfigPayload() : DeviceNotFoundPayload();
      p.reply.category = ReplyCategory::kError;
      p.effect = DeviceEffect::kBootNoConfig;
    } else if (d.mode == Mode::kPage) {
      p.topic = d.id;
      p.payload = PagePayload(d, false);
      p.reply.category = ReplyCategory::kPageAnswer;
      p.effect = DeviceEffect::kBootQuote;
    } else {
      p = QuoteReply(d, -1, "NEW", kNoRequest);
      p.reply.category = ReplyCategory::kNewAnswer;
      p.effect = DeviceEffect::kBootQuote;
    }
    p.delay = DrawLatency(ProfileOf(kStock), 1);
    p.reply.injected_latency = p.delay;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace fleetsim
