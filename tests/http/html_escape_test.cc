#include "src/http/html_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace tkmprom {
namespace {

TEST(HtmlEscapeTest, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
}

TEST(HtmlEscapeTest, LeavesOtherBytesAlone) {
  EXPECT_EQ(HtmlEscape(""), "");
  EXPECT_EQ(HtmlEscape("BTC/USD 70p A1B2C3D4E5F6"), "BTC/USD 70p A1B2C3D4E5F6");
  EXPECT_EQ(HtmlEscape("\xc3\xa9\xff"), "\xc3\xa9\xff");
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(HtmlEscapeTest, AlreadyEscapedTextIsEscapedAgain) {
  EXPECT_EQ(HtmlEscape("&amp;"), "&amp;amp;");
}

TEST(HtmlEscapeTest, AppendsToWhatIsThere) {
  std::string out = "<b>";
  AppendHtmlEscaped("1<2", &out);
  EXPECT_EQ(out, "<b>1&lt;2");
}

TEST(UrlEncodeQueryValueTest, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UrlEncodeQueryValue("A1b2-._~"), "A1b2-._~");
  EXPECT_EQ(UrlEncodeQueryValue("a b&c=d/e?#\"<"), "a%20b%26c%3Dd%2Fe%3F%23%22%3C");
  EXPECT_EQ(UrlEncodeQueryValue("\xc3\xa9"), "%C3%A9");
}

}  // namespace
}  // namespace tkmprom
