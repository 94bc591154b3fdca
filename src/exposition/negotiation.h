// HTTP content negotiation for /metrics: which exposition format an `Accept`
// header asks for, and whether `Accept-Encoding` allows gzip.
//
// Parsing follows RFC 9110 §12.5 loosely and never fails: elements that do
// not parse (bad media range, bad q-value) are ignored, so an empty or
// garbage header yields the defaults (text 0.0.4, no gzip).
//
// Thread safety: pure functions; safe from any thread.
#ifndef TKMPROM_SRC_EXPOSITION_NEGOTIATION_H_
#define TKMPROM_SRC_EXPOSITION_NEGOTIATION_H_

#include <string_view>

#include "src/exposition/text_writer.h"

namespace tkmprom {

// kOpenMetrics100 when `accept_header` names application/openmetrics-text
// (version=1.0.0 or no version) with a q-value above that of text/plain
// (version 0.0.4, 1.0.0 or none; or via text/* or */*). On a tie the more
// specific range wins, then the one listed first. OpenMetrics is never chosen
// through a wildcard alone, and version=0.0.1 does not count (we only speak
// 1.0.0). Everything else, including empty and garbage headers, gives
// kText004. Never throws.
ExpositionFormat NegotiateFormat(std::string_view accept_header);

// True when `accept_encoding` allows gzip: "gzip" (or "x-gzip") with a q-value
// above 0, or, when gzip is not named, "*" with a q-value above 0. An empty
// header gives false. Never throws.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_EXPOSITION_NEGOTIATION_H_
