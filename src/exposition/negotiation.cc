#include "src/exposition/negotiation.h"

#include <cstddef>

namespace tkmprom {
namespace {

constexpr int kQMax = 1000;  // q-values are kept in thousandths

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

// Index of the first `sep` in `s` at or after `from` that is outside a
// quoted-string, or s.size().
size_t FindUnquoted(std::string_view s, char sep, size_t from) {
  bool quoted = false;
  for (size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;  // quoted-pair
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      return i;
    }
  }
  return s.size();
}

// Parses a q-value ("0", "0.5", "1", "1.000") into thousandths.
bool ParseQ(std::string_view s, int* q) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
  int value = (s[0] - '0') * kQMax;
  if (s.size() > 1) {
    if (s[1] != '.' || s.size() > 5) return false;
    int scale = 100;
    for (size_t i = 2; i < s.size(); ++i, scale /= 10) {
      if (s[i] < '0' || s[i] > '9') return false;
      value += (s[i] - '0') * scale;
    }
  }
  if (value > kQMax) return false;
  *q = value;
  return true;
}

// One element of an Accept or Accept-Encoding list: the part before the
// first `;`, its `version` parameter and its q-value.
struct Element {
  std::string_view value;
  std::string_view version;  // unquoted; empty when absent
  bool has_version = false;
  int q = kQMax;
};

// Parses one list element; false when it is empty or malformed.
bool ParseElement(std::string_view s, Element* element) {
  size_t semi = FindUnquoted(s, ';', 0);
  element->value = Trim(s.substr(0, semi));
  if (element->value.empty()) return false;
  while (semi < s.size()) {
    const size_t next = FindUnquoted(s, ';', semi + 1);
    const std::string_view param = Trim(s.substr(semi + 1, next - semi - 1));
    semi = next;
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view name = Trim(param.substr(0, eq));
    std::string_view value = Trim(param.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (EqualsIgnoreCase(name, "q")) {
      if (!ParseQ(value, &element->q)) return false;
    } else if (EqualsIgnoreCase(name, "version")) {
      element->version = value;
      element->has_version = true;
    }
  }
  return true;
}

// Calls `fn(const Element&, int index)` for every well-formed element of a
// comma-separated header.
template <typename Fn>
void ForEachElement(std::string_view header, Fn fn) {
  size_t start = 0;
  int index = 0;
  while (start <= header.size()) {
    const size_t comma = FindUnquoted(header, ',', start);
    Element element;
    if (ParseElement(header.substr(start, comma - start), &element)) fn(element, index++);
    start = comma + 1;
  }
}

// The best match so far of one of our representations against an Accept
// header: its specificity (3 = type/subtype;version, 2 = type/subtype,
// 1 = type/*, 0 = */*) and that range's q-value and position.
struct Match {
  int specificity = -1;  // -1: no range matched
  int q = 0;
  int index = 0;

  // RFC 9110: the most specific matching range decides the q-value.
  void Offer(int offered_specificity, int offered_q, int offered_index) {
    if (offered_specificity > specificity ||
        (offered_specificity == specificity && offered_q > q)) {
      specificity = offered_specificity;
      q = offered_q;
      index = offered_index;
    }
  }
};

}  // namespace

ExpositionFormat NegotiateFormat(std::string_view accept_header) {
  Match open_metrics;
  Match text;
  ForEachElement(accept_header, [&](const Element& e, int index) {
    const size_t slash = e.value.find('/');
    if (slash == std::string_view::npos) return;
    const std::string_view type = Trim(e.value.substr(0, slash));
    const std::string_view subtype = Trim(e.value.substr(slash + 1));
    if (type == "*" && subtype == "*") {
      text.Offer(0, e.q, index);
    } else if (EqualsIgnoreCase(type, "text")) {
      if (subtype == "*") {
        text.Offer(1, e.q, index);
      } else if (EqualsIgnoreCase(subtype, "plain")) {
        if (!e.has_version) {
          text.Offer(2, e.q, index);
        } else if (e.version == "0.0.4" || e.version == "1.0.0") {
          text.Offer(3, e.q, index);
        }
      }
    } else if (EqualsIgnoreCase(type, "application") &&
               EqualsIgnoreCase(subtype, "openmetrics-text")) {
      if (!e.has_version) {
        open_metrics.Offer(2, e.q, index);
      } else if (e.version == "1.0.0") {
        open_metrics.Offer(3, e.q, index);
      }
    }
  });
  if (open_metrics.specificity < 0 || open_metrics.q == 0) return ExpositionFormat::kText004;
  if (text.specificity < 0 || open_metrics.q > text.q) return ExpositionFormat::kOpenMetrics100;
  if (open_metrics.q < text.q) return ExpositionFormat::kText004;
  if (open_metrics.specificity != text.specificity) {
    return open_metrics.specificity > text.specificity ? ExpositionFormat::kOpenMetrics100
                                                       : ExpositionFormat::kText004;
  }
  return open_metrics.index < text.index ? ExpositionFormat::kOpenMetrics100
                                         : ExpositionFormat::kText004;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  int gzip_q = -1;
  int star_q = -1;
  ForEachElement(accept_encoding, [&](const Element& e, int /*index*/) {
    if (EqualsIgnoreCase(e.value, "gzip") || EqualsIgnoreCase(e.value, "x-gzip")) {
      if (e.q > gzip_q) gzip_q = e.q;
    } else if (e.value == "*") {
      if (e.q > star_q) star_q = e.q;
    }
  });
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}

}  // namespace tkmprom
