#include "src/exposition/text_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>

namespace tkmprom {
namespace {

constexpr std::string_view kTotalSuffix = "_total";

// The next render's text is reserved at the last one's size plus a margin,
// so that it grows once instead of doubling its way up to megabytes.
size_t Reserve(size_t last) { return last + last / 16 + 4096; }

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

// The name printed in a family's HELP and TYPE lines.
void AppendFamilyName(std::string_view name, MetricType type, ExpositionFormat format,
                      std::string* out) {
  out->append(name);
  if (type == MetricType::kCounter && format == ExpositionFormat::kText004) {
    out->append(kTotalSuffix);
  }
}

// Writes each family and sample as it arrives. Float label values (`le`,
// `quantile`) repeat for every histogram and summary: their canonical forms
// are remembered by value.
class TextSink : public MetricSink {
 public:
  TextSink(ExpositionFormat format, std::string* out, GzipStream* gzip)
      : format_(format), out_(out), gzip_(gzip) {}

  void Family(std::string_view name, MetricType type, std::string_view help) override {
    name_ = name;
    type_ = type;
    if (!help.empty()) {
      out_->append("# HELP ");
      AppendFamilyName(name, type, format_, out_);
      out_->push_back(' ');
      AppendEscaped(help, /*escape_quote=*/format_ == ExpositionFormat::kOpenMetrics100, out_);
      out_->push_back('\n');
    }
    out_->append("# TYPE ");
    AppendFamilyName(name, type, format_, out_);
    out_->push_back(' ');
    out_->append(TypeName(type));
    out_->push_back('\n');
  }

  using MetricSink::Sample;
  void Sample(std::string_view suffix, const LabelRef* labels, size_t label_count,
              double value) override {
    out_->append(name_);
    out_->append(suffix);
    if (label_count > 0) {
      out_->push_back('{');
      for (size_t i = 0; i < label_count; ++i) {
        if (i > 0) out_->push_back(',');
        out_->append(labels[i].name);
        out_->append("=\"");
        AppendLabelValue(labels[i]);
        out_->push_back('"');
      }
      out_->push_back('}');
    }
    out_->push_back(' ');
    AppendDouble(value, out_);
    out_->push_back('\n');
    if (gzip_ != nullptr && out_->size() - compressed_ >= kGzipChunk) Compress();
  }

  // Ends the exposition (and the gzip member, if any). False when gzip failed.
  bool Finish() {
    if (format_ == ExpositionFormat::kOpenMetrics100) out_->append("# EOF\n");
    if (gzip_ == nullptr) return true;
    Compress();
    return gzip_->Finish();
  }

 private:
  // Text is handed to zlib in chunks of this size while it is written.
  static constexpr size_t kGzipChunk = 64 * 1024;

  void Compress() {
    gzip_->Write(std::string_view(*out_).substr(compressed_));
    compressed_ = out_->size();
  }

  void AppendLabelValue(const LabelRef& label) {
    const bool float_label = (type_ == MetricType::kHistogram && label.name == "le") ||
                             (type_ == MetricType::kSummary && label.name == "quantile");
    if (!float_label) {
      AppendEscaped(label.value, /*escape_quote=*/true, out_);
      return;
    }
    for (size_t i = 0; i < float_count_; ++i) {
      const CachedFloat& c = floats_[i];
      if (std::string_view(c.value, c.value_size) == label.value) {
        out_->append(c.text, c.text_size);
        return;
      }
    }
    const size_t start = out_->size();
    double v;
    if (ParseFloatLabel(label.value, &v)) {
      if (format_ == ExpositionFormat::kOpenMetrics100) {
        AppendCanonicalOpenMetrics(v, out_);
      } else {
        AppendDouble(v, out_);
      }
    } else {
      AppendEscaped(label.value, /*escape_quote=*/true, out_);
    }
    const size_t written = out_->size() - start;
    if (float_count_ < kMaxCachedFloats && written <= sizeof(CachedFloat::text) &&
        label.value.size() <= sizeof(CachedFloat::value)) {
      CachedFloat& c = floats_[float_count_++];
      c.value_size = label.value.size();
      std::memcpy(c.value, label.value.data(), c.value_size);
      c.text_size = written;
      std::memcpy(c.text, out_->data() + start, written);
    }
  }

  // A float label value and its canonical form, held in place so that the
  // cache allocates nothing; longer values (not floats) are not cached.
  struct CachedFloat {
    char value[32];
    size_t value_size;
    char text[32];
    size_t text_size;
  };
  // Enough for the 65 `le` values (64 finite bounds, the configuration's
  // limit, and +Inf) and the 4 `quantile` values of a render.
  static constexpr size_t kMaxCachedFloats = 72;

  const ExpositionFormat format_;
  std::string* const out_;
  GzipStream* const gzip_;
  size_t compressed_ = 0;
  std::string_view name_;
  MetricType type_ = MetricType::kGauge;
  std::array<CachedFloat, kMaxCachedFloats> floats_;  // the first float_count_ hold values
  size_t float_count_ = 0;
};

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
  TextSink sink(format, out, nullptr);
  EmitFamilies(families, &sink);
  sink.Finish();
}

bool RenderExposition(const Snapshot& snapshot, ExpositionFormat format, std::string* text,
                      GzipStream* gzip, std::string* compressed) {
  const size_t last_size = text->size();
  text->clear();
  text->reserve(Reserve(last_size));
  bool gzip_ok = false;
  if (gzip != nullptr) gzip_ok = gzip->Begin(compressed, Reserve(compressed->size()));
  TextSink sink(format, text, gzip_ok ? gzip : nullptr);
  EmitSnapshot(snapshot, &sink);
  return sink.Finish() && gzip_ok;
}

}  // namespace tkmprom
