#include "src/ring/log_pipe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "src/common/option_blob.h"

namespace tkmprom {
namespace {

std::vector<std::pair<LogLevel, std::string>> Split(LogLineSplitter* splitter,
                                                    const std::string& bytes) {
  std::vector<std::pair<LogLevel, std::string>> lines;
  splitter->Feed(bytes.data(), bytes.size(), [&](const LogLineSplitter::Line& line) {
    lines.emplace_back(line.level, std::string(line.text));
  });
  return lines;
}

TEST(LogPipeTest, LinesRoundTripThroughARealPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  ASSERT_TRUE(WriteLogLine(fds[1], LogLevel::kWarning, "companion restarted"));
  ASSERT_TRUE(WriteLogLine(fds[1], LogLevel::kError, "two\nlines"));
  char buf[256];
  const ssize_t n = read(fds[0], buf, sizeof(buf));
  ASSERT_GT(n, 0);
  LogLineSplitter splitter;
  auto lines = Split(&splitter, std::string(buf, static_cast<size_t>(n)));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, LogLevel::kWarning);
  EXPECT_EQ(lines[0].second, "companion restarted");
  EXPECT_EQ(lines[1].first, LogLevel::kError);
  EXPECT_EQ(lines[1].second, "two lines");  // one line: a writer cannot forge a second
  close(fds[0]);
  close(fds[1]);
}

TEST(LogPipeTest, AFullPipeLosesTheLineInsteadOfBlocking) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  int written = 0;
  while (WriteLogLine(fds[1], LogLevel::kInfo, "x") && written < 100000) {
    ++written;
  }
  EXPECT_LT(written, 100000);
  EXPECT_FALSE(WriteLogLine(fds[1], LogLevel::kInfo, "lost"));
  close(fds[0]);
  close(fds[1]);
}

TEST(LogPipeTest, SplitterBoundsLinesAndToleratesAnyByte) {
  LogLineSplitter splitter;
  // A line split across two reads.
  EXPECT_TRUE(Split(&splitter, "2half").empty());
  auto lines = Split(&splitter, " a line\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].second, "half a line");
  // An endless line is cut at the cap; its rest is skipped up to the newline.
  lines = Split(&splitter, "3" + std::string(5000, 'y') + "\n1next\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, LogLevel::kError);
  EXPECT_EQ(lines[0].second.size(), kMaxLogTextBytes);
  EXPECT_EQ(lines[1].second, "next");
  // An unknown level and control bytes.
  lines = Split(&splitter, std::string("9bell\x07 and nul\0!\n", 17));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].first, LogLevel::kInfo);
  EXPECT_EQ(lines[0].second, "bell? and nul?!");
  // Empty lines are dropped.
  EXPECT_TRUE(Split(&splitter, "\n\n").empty());
}

TEST(OptionBlobTest, RoundTripsThroughASealedMemfd) {
  const OptionList options = {
      {"http_listen", "127.0.0.1:1"}, {"device_id_pattern", "^x$"}, {"empty", ""}};
  std::string error;
  const int fd = OptionsToMemfd(EncodeOptions(options), &error);
  ASSERT_GE(fd, 0) << error;
  EXPECT_LT(write(fd, "x", 1), 0);  // sealed
  std::string blob;
  ASSERT_TRUE(ReadOptionsFd(fd, &blob, &error)) << error;
  OptionList decoded;
  ASSERT_TRUE(DecodeOptions(blob, &decoded));
  EXPECT_EQ(decoded, options);
  close(fd);
}

TEST(OptionBlobTest, RefusesMalformedBlobs) {
  OptionList out;
  EXPECT_FALSE(DecodeOptions(std::string("key\0value", 9), &out));  // no final NUL
  EXPECT_FALSE(DecodeOptions(std::string("lonely\0", 7), &out));    // a key without value
  EXPECT_FALSE(DecodeOptions(std::string(kMaxOptionBytes + 1, 'k') + '\0' + '\0', &out));
  std::string many;
  for (size_t i = 0; i <= kMaxOptions; ++i) many += std::string("k\0v\0", 4);
  EXPECT_FALSE(DecodeOptions(many, &out));
  EXPECT_TRUE(DecodeOptions("", &out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace tkmprom
