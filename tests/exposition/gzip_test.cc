// Tests of gzip compression, checked by inflating with zlib.
#include "src/exposition/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace tkmprom {
namespace {

// Inflates a gzip member with zlib (windowBits 16+15: gzip only).
bool Gunzip(const std::string& in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + 15) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  char buf[16384];
  int ret;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END) break;
    out->append(buf, sizeof(buf) - zs.avail_out);
  } while (ret != Z_STREAM_END);
  const bool consumed_all = zs.avail_in == 0;
  inflateEnd(&zs);
  return ret == Z_STREAM_END && consumed_all;
}

void ExpectRoundTrip(const std::string& input, int level) {
  std::string compressed;
  ASSERT_TRUE(GzipCompress(input, &compressed, level));
  ASSERT_GE(compressed.size(), 18u);  // 10-byte header + 8-byte trailer
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
  EXPECT_EQ(compressed[2], 8);  // deflate
  std::string restored;
  ASSERT_TRUE(Gunzip(compressed, &restored));
  EXPECT_EQ(restored, input);
}

TEST(GzipTest, RoundTripsEmpty) { ExpectRoundTrip("", 6); }

TEST(GzipTest, RoundTripsText) {
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "tickrmeter_stock_update_requests_total{symbol=\"SYM" + std::to_string(i) + "\"} " +
            std::to_string(i * 7) + "\n";
  }
  ExpectRoundTrip(text, 6);
  std::string compressed;
  ASSERT_TRUE(GzipCompress(text, &compressed));
  EXPECT_LT(compressed.size(), text.size() / 4);
}

TEST(GzipTest, RoundTripsIncompressibleAtEveryLevel) {
  std::mt19937 rng(7);
  std::string noise(300000, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  for (int level : {-1, 0, 1, 6, 9}) {
    SCOPED_TRACE(level);
    ExpectRoundTrip(noise, level);
  }
}

TEST(GzipTest, ReplacesOutput) {
  std::string out = "stale";
  ASSERT_TRUE(GzipCompress("abc", &out));
  std::string restored;
  ASSERT_TRUE(Gunzip(out, &restored));
  EXPECT_EQ(restored, "abc");
}

TEST(GzipTest, InvalidLevelFails) {
  std::string out = "stale";
  EXPECT_FALSE(GzipCompress("abc", &out, 42));
  EXPECT_TRUE(out.empty());
}

// A GzipStream fed in pieces of every size produces one member that inflates
// to their concatenation, also when reused for a second body.
TEST(GzipStreamTest, PiecesInflateToTheWhole) {
  std::mt19937 rng(7);
  std::string whole;
  for (int i = 0; i < 300000; ++i) whole.push_back(static_cast<char>('a' + rng() % 7));
  GzipStream stream(1);
  for (int round = 0; round < 2; ++round) {
    std::string out;
    ASSERT_TRUE(stream.Begin(&out, round == 0 ? 0 : 1000));
    size_t pos = 0;
    size_t piece = 1;
    while (pos < whole.size()) {
      const size_t n = std::min(piece, whole.size() - pos);
      ASSERT_TRUE(stream.Write(std::string_view(whole).substr(pos, n)));
      pos += n;
      piece = piece * 3 + 1;
    }
    ASSERT_TRUE(stream.Finish());
    std::string inflated;
    ASSERT_TRUE(Gunzip(out, &inflated));
    EXPECT_EQ(inflated, whole) << "round " << round;
  }
}

TEST(GzipStreamTest, EmptyBodyIsAValidMember) {
  GzipStream stream;
  std::string out;
  ASSERT_TRUE(stream.Begin(&out));
  ASSERT_TRUE(stream.Finish());
  std::string inflated = "x";
  ASSERT_TRUE(Gunzip(out, &inflated));
  EXPECT_EQ(inflated, "");
}

TEST(GzipStreamTest, InvalidLevelFails) {
  GzipStream stream(42);
  std::string out;
  EXPECT_FALSE(stream.Begin(&out));
  EXPECT_FALSE(stream.Write("abc"));
  EXPECT_FALSE(stream.Finish());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace tkmprom
