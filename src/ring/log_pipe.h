// Log lines from the plugin's processes (supervisor, companion) to the
// broker, through a pipe. The broker forwards them to mosquitto_log_printf on
// its tick, so the children never call into the broker.
//
// A line on the pipe is one digit (the level), the text and '\n', written
// with a single write() of at most PIPE_BUF bytes, so lines of concurrent
// writers never interleave. Writers' descriptors are non-blocking: when the
// broker does not read (a stuck tick), lines are lost, never the writer's
// time. The reader trusts nothing: LogLineSplitter bounds every line,
// tolerates any byte and never reads past what it was given.
//
// Thread safety: WriteLogLine may be called from any thread (one write()).
// A LogLineSplitter belongs to one thread.
#ifndef TKMPROM_RING_LOG_PIPE_H_
#define TKMPROM_RING_LOG_PIPE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tkmprom {

enum class LogLevel : uint8_t { kInfo = 0, kNotice = 1, kWarning = 2, kError = 3 };

inline constexpr size_t kMaxLogTextBytes = 1000;

// "<level digit><text>\n", the text cut to kMaxLogTextBytes and every byte
// below 0x20 (newlines included) or 0x7F replaced by a space.
std::string EncodeLogLine(LogLevel level, std::string_view text);

// Writes one encoded line to `fd` with one write(); false if it could not be
// written whole (pipe full, closed, fd -1).
bool WriteLogLine(int fd, LogLevel level, std::string_view text);

// Splits the bytes read from the pipe into lines.
class LogLineSplitter {
 public:
  // One line: its level and its text (printable; at most kMaxLogTextBytes).
  struct Line {
    LogLevel level;
    std::string_view text;
  };

  // Feeds `n` bytes; calls `emit(const Line&)` for every line completed. A
  // line longer than the cap is cut and its rest skipped; an unknown level
  // digit reads as kInfo; unprintable bytes become '?'.
  template <typename Emit>
  void Feed(const char* data, size_t n, Emit&& emit) {
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (c == '\n') {
        if (length_ > 0) emit(Finish());
        length_ = 0;
        skipping_ = false;
        continue;
      }
      if (skipping_) continue;
      if (length_ == sizeof(line_)) {
        emit(Finish());
        skipping_ = true;
        length_ = 0;
        continue;
      }
      line_[length_++] = c;
    }
  }

 private:
  Line Finish();

  char line_[kMaxLogTextBytes + 1];  // level digit + text
  size_t length_ = 0;
  bool skipping_ = false;
};

}  // namespace tkmprom

#endif  // TKMPROM_RING_LOG_PIPE_H_
