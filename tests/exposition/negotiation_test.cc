// Tests of Accept / Accept-Encoding negotiation for /metrics.
#include "src/exposition/negotiation.h"

#include <gtest/gtest.h>

#include <string>

namespace tkmprom {
namespace {

constexpr ExpositionFormat kText = ExpositionFormat::kText004;
constexpr ExpositionFormat kOpenMetrics = ExpositionFormat::kOpenMetrics100;

TEST(NegotiateFormatTest, DefaultsToText) {
  EXPECT_EQ(NegotiateFormat(""), kText);
  EXPECT_EQ(NegotiateFormat("*/*"), kText);
  EXPECT_EQ(NegotiateFormat("text/plain"), kText);
  EXPECT_EQ(NegotiateFormat("text/plain; version=0.0.4"), kText);
  EXPECT_EQ(NegotiateFormat("application/json"), kText);
  EXPECT_EQ(NegotiateFormat("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            kText);
}

TEST(NegotiateFormatTest, PicksOpenMetricsWhenNamed) {
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text; version=1.0.0"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=\"1.0.0\""), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("Application/OpenMetrics-Text; Version=1.0.0; charset=utf-8"),
            kOpenMetrics);
}

TEST(NegotiateFormatTest, PrometheusScrapeHeaders) {
  // Prometheus 2.x default.
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=1.0.0,application/"
                            "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
                            "*/*;q=0.1"),
            kOpenMetrics);
  // Prometheus 3.x default.
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                            "application/openmetrics-text;version=0.0.1;q=0.4,"
                            "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
                            "text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
            kOpenMetrics);
  // scrape_protocols: [PrometheusText0.0.4] only.
  EXPECT_EQ(NegotiateFormat("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), kText);
}

TEST(NegotiateFormatTest, HonoursQValues) {
  EXPECT_EQ(NegotiateFormat("text/plain;q=0.9, application/openmetrics-text;q=0.5"), kText);
  EXPECT_EQ(NegotiateFormat("text/plain;q=0.5, application/openmetrics-text;q=0.9"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=0"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=0.000, text/plain;q=0.001"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=0.001"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=1.000"), kOpenMetrics);
  // text/plain refused outright still leaves OpenMetrics as the only choice.
  EXPECT_EQ(NegotiateFormat("text/plain;q=0, application/openmetrics-text;q=0.1"), kOpenMetrics);
}

TEST(NegotiateFormatTest, TiesGoToTheMoreSpecificThenTheFirstListed) {
  EXPECT_EQ(NegotiateFormat("*/*, application/openmetrics-text"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("text/*;q=0.5, application/openmetrics-text;q=0.5"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("text/plain, application/openmetrics-text"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text, text/plain"), kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("text/plain;version=0.0.4, application/openmetrics-text"), kText);
}

TEST(NegotiateFormatTest, MostSpecificRangeDecidesQ) {
  // The versioned range is more specific than the bare one and says q=0.
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=1.0.0;q=0, "
                            "application/openmetrics-text;q=1"),
            kText);
  EXPECT_EQ(NegotiateFormat("*/*;q=1, text/plain;q=0.1, application/openmetrics-text;q=0.5"),
            kOpenMetrics);
}

TEST(NegotiateFormatTest, WildcardsAloneNeverPickOpenMetrics) {
  EXPECT_EQ(NegotiateFormat("application/*"), kText);
  EXPECT_EQ(NegotiateFormat("application/*, text/plain;q=0"), kText);
}

TEST(NegotiateFormatTest, OnlyVersion100OfOpenMetrics) {
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text; version=0.0.1"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=2.0.0"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=0.0.1, text/plain;q=0.5"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=0.0.1;q=1,"
                            "application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.1"),
            kOpenMetrics);
}

TEST(NegotiateFormatTest, GarbageGivesText) {
  EXPECT_EQ(NegotiateFormat(","), kText);
  EXPECT_EQ(NegotiateFormat(";;;,,,==="), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=abc"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=1.5"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q=2"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;q="), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;novalue"), kText);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=\"1.0.0"), kText);
  EXPECT_EQ(NegotiateFormat("openmetrics"), kText);
  EXPECT_EQ(NegotiateFormat(std::string("application/openmetrics-text\0", 29)), kText);
  EXPECT_EQ(NegotiateFormat(std::string(100000, ',')), kText);
  EXPECT_EQ(NegotiateFormat("\"application/openmetrics-text, text/plain\""), kText);
}

TEST(NegotiateFormatTest, QuotedCommasDoNotSplitElements) {
  EXPECT_EQ(NegotiateFormat("text/plain;foo=\"a,application/openmetrics-text\";q=0.1,"
                            "application/openmetrics-text;q=0.5"),
            kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;foo=\"x,text/plain\""), kOpenMetrics);
}

TEST(AcceptsGzipTest, Basics) {
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip("gzip, deflate, br"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=0.001"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip("identity"));
}

TEST(AcceptsGzipTest, QZeroRefuses) {
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0"));
}

TEST(AcceptsGzipTest, Wildcard) {
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("br, *;q=0.1"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_TRUE(AcceptsGzip("*;q=0, gzip"));
}

TEST(AcceptsGzipTest, Garbage) {
  EXPECT_FALSE(AcceptsGzip(","));
  EXPECT_FALSE(AcceptsGzip("gzip;q=abc"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=7"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));
  EXPECT_FALSE(AcceptsGzip("\"gzip\""));
  EXPECT_FALSE(AcceptsGzip(std::string(100000, ';')));
}

}  // namespace
}  // namespace tkmprom
