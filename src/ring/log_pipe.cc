#include "src/ring/log_pipe.h"

#include <unistd.h>

#include <cerrno>

namespace tkmprom {

std::string EncodeLogLine(LogLevel level, std::string_view text) {
  if (text.size() > kMaxLogTextBytes) text = text.substr(0, kMaxLogTextBytes);
  std::string line;
  line.reserve(text.size() + 2);
  line.push_back(static_cast<char>('0' + static_cast<int>(level)));
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    line.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
  }
  line.push_back('\n');
  return line;
}

bool WriteLogLine(int fd, LogLevel level, std::string_view text) {
  if (fd < 0) return false;
  const std::string line = EncodeLogLine(level, text);
  ssize_t n;
  do {
    n = write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(line.size());
}

LogLineSplitter::Line LogLineSplitter::Finish() {
  const char digit = line_[0];
  Line out;
  out.level = digit >= '0' && digit <= '3' ? static_cast<LogLevel>(digit - '0') : LogLevel::kInfo;
  for (size_t i = 1; i < length_; ++i) {
    const unsigned char u = static_cast<unsigned char>(line_[i]);
    if (u < 0x20 || u == 0x7F) line_[i] = '?';
  }
  out.text = length_ > 1 ? std::string_view(line_ + 1, length_ - 1) : std::string_view();
  return out;
}

}  // namespace tkmprom
