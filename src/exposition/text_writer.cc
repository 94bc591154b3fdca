#include "src/exposition/text_writer.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <system_error>

namespace tkmprom {
namespace {

constexpr std::string_view kTotalSuffix = "_total";

// Fixed per-sample overhead assumed by EstimateSize: the value (at most 24
// characters), separators, braces and the newline.
constexpr size_t kSampleOverhead = 32;
constexpr size_t kLabelOverhead = 4;  // ="",
// HELP and TYPE lines beyond the name (twice) and the help text.
constexpr size_t kFamilyOverhead = 64;

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
  }
  return "untyped";
}

// Appends `s`, prefixing `\` and newline (and `"` when `escape_quote`) with a
// backslash; newline becomes `\n`. Runs without specials are appended whole.
void AppendEscaped(std::string_view s, bool escape_quote, std::string* out) {
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\\' && c != '\n' && !(escape_quote && c == '"')) continue;
    out->append(s.data() + run_start, i - run_start);
    out->push_back('\\');
    out->push_back(c == '\n' ? 'n' : c);
    run_start = i + 1;
  }
  out->append(s.data() + run_start, s.size() - run_start);
}

// Parses a label value that holds a float ("0.1", "1", "+Inf", "NaN").
// Returns false when `s` is anything else, so the caller keeps it verbatim.
bool ParseFloatLabel(std::string_view s, double* v) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const std::from_chars_result r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Appends `v` in OpenMetrics' canonical number form: the 0.0.4 form with
// ".0" added when it would otherwise read as an integer.
void AppendCanonicalOpenMetrics(double v, std::string* out) {
  const size_t start = out->size();
  AppendDouble(v, out);
  if (!std::isfinite(v)) return;
  if (out->find_first_of(".e", start) == std::string::npos) out->append(".0");
}

bool IsFloatLabel(MetricType type, std::string_view label_name) {
  return (type == MetricType::kHistogram && label_name == "le") ||
         (type == MetricType::kSummary && label_name == "quantile");
}

void AppendLabelValue(MetricType type, const Label& label, ExpositionFormat format,
                      std::string* out) {
  double v;
  if (IsFloatLabel(type, label.name) && ParseFloatLabel(label.value, &v)) {
    if (format == ExpositionFormat::kOpenMetrics100) {
      AppendCanonicalOpenMetrics(v, out);
    } else {
      AppendDouble(v, out);
    }
    return;
  }
  AppendEscaped(label.value, /*escape_quote=*/true, out);
}

// The name printed in a family's HELP and TYPE lines.
void AppendFamilyName(const MetricFamily& family, ExpositionFormat format, std::string* out) {
  out->append(family.name);
  if (family.type == MetricType::kCounter && format == ExpositionFormat::kText004) {
    out->append(kTotalSuffix);
  }
}

void AppendHeader(const MetricFamily& family, ExpositionFormat format, std::string* out) {
  if (!family.help.empty()) {
    out->append("# HELP ");
    AppendFamilyName(family, format, out);
    out->push_back(' ');
    AppendEscaped(family.help, /*escape_quote=*/format == ExpositionFormat::kOpenMetrics100, out);
    out->push_back('\n');
  }
  out->append("# TYPE ");
  AppendFamilyName(family, format, out);
  out->push_back(' ');
  out->append(TypeName(family.type));
  out->push_back('\n');
}

void AppendSample(const MetricFamily& family, const Sample& sample, ExpositionFormat format,
                  std::string* out) {
  out->append(family.name);
  out->append(sample.suffix);
  if (!sample.labels.empty()) {
    out->push_back('{');
    bool first = true;
    for (const Label& label : sample.labels) {
      if (!first) out->push_back(',');
      first = false;
      out->append(label.name);
      out->append("=\"");
      AppendLabelValue(family.type, label, format, out);
      out->push_back('"');
    }
    out->push_back('}');
  }
  out->push_back(' ');
  AppendDouble(sample.value, out);
  out->push_back('\n');
}

// An upper-bound-ish guess of the rendered size, so that the output string
// grows once instead of doubling its way up to megabytes.
size_t EstimateSize(const std::vector<MetricFamily>& families) {
  size_t size = 16;
  for (const MetricFamily& family : families) {
    size += 2 * family.name.size() + family.help.size() + kFamilyOverhead;
    for (const Sample& sample : family.samples) {
      size += family.name.size() + sample.suffix.size() + kSampleOverhead;
      for (const Label& label : sample.labels) {
        size += label.name.size() + label.value.size() + kLabelOverhead;
      }
    }
  }
  return size;
}

}  // namespace

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Shortest round-trip digits, as "[-]d[.ddd]e±XX".
  char sci[32];
  const std::to_chars_result r =
      std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  const char* p = sci;
  const char* const end = r.ptr;
  const char* const e = static_cast<const char*>(std::char_traits<char>::find(p, end - p, 'e'));
  int exp = 0;
  for (const char* q = e + 2; q < end; ++q) exp = exp * 10 + (*q - '0');
  if (e[1] == '-') exp = -exp;

  // Go's 'g' with the shortest precision switches to the exponent form below
  // 1e-4 and from 1e6 up, whatever the number of digits; the exponent form is
  // then exactly to_chars' scientific output.
  if (exp < -4 || exp >= 6) {
    out->append(sci, end - sci);
    return;
  }
  char fixed[32];
  char* w = fixed;
  if (*p == '-') *w++ = *p++;
  char digits[24];
  int num_digits = 0;
  for (; p < e; ++p) {
    if (*p != '.') digits[num_digits++] = *p;
  }
  if (exp < 0) {
    *w++ = '0';
    *w++ = '.';
    for (int i = -1; i > exp; --i) *w++ = '0';
    for (int i = 0; i < num_digits; ++i) *w++ = digits[i];
  } else {
    const int integer_digits = exp + 1;
    for (int i = 0; i < integer_digits; ++i) *w++ = i < num_digits ? digits[i] : '0';
    if (num_digits > integer_digits) {
      *w++ = '.';
      for (int i = integer_digits; i < num_digits; ++i) *w++ = digits[i];
    }
  }
  out->append(fixed, w - fixed);
}

const char* ContentType(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics100
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

void WriteExposition(const std::vector<MetricFamily>& families, ExpositionFormat format,
                     std::string* out) {
  out->reserve(out->size() + EstimateSize(families));
  for (const MetricFamily& family : families) {
    AppendHeader(family, format, out);
    for (const Sample& sample : family.samples) AppendSample(family, sample, format, out);
  }
  if (format == ExpositionFormat::kOpenMetrics100) out->append("# EOF\n");
}

}  // namespace tkmprom
