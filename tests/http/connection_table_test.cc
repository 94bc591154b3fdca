#include "src/http/connection_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "src/http/client_address.h"

namespace tkmprom {
namespace {

constexpr int64_t kMs = 1000000;
constexpr int64_t kSecond = 1000 * kMs;

const ClientAddress kHog = ClientAddress::FromText("127.0.0.1");
const ClientAddress kScraper = ClientAddress::FromText("127.0.0.2");

// The table with a fake closer that records which descriptors it closed.
struct Fixture {
  explicit Fixture(ConnectionTableLimits limits)
      : table(limits, [this](int fd) { closed.push_back(fd); }) {}
  std::vector<int> closed;
  ConnectionTable table;
};

ConnectionTableLimits Limits(size_t limit, size_t per_address) {
  ConnectionTableLimits l;
  l.capacity = 2 * limit;
  l.connection_limit = limit;
  l.per_address_limit = per_address;
  l.header_deadline_ns = 10 * kSecond;
  return l;
}

TEST(ConnectionTableTest, ANewConnectionBeyondTheLimitClosesTheOldestWaitingOne) {
  Fixture f(Limits(3, 0));
  const int a = f.table.Opened(10, kHog, 1 * kMs);
  f.table.Opened(11, kHog, 2 * kMs);
  f.table.Opened(12, kHog, 3 * kMs);
  EXPECT_TRUE(f.closed.empty());
  const int scrape = f.table.Opened(13, kScraper, 4 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({10}));
  EXPECT_NE(scrape, ConnectionTable::kUntracked);
  ConnectionTable::Counts c = f.table.counts();
  EXPECT_EQ(c.live, 3u);
  EXPECT_EQ(c.closing, 1u);
  EXPECT_EQ(c.evicted, 1u);
  // libmicrohttpd then reports it closed.
  f.table.Closed(a);
  c = f.table.counts();
  EXPECT_EQ(c.live, 3u);
  EXPECT_EQ(c.closing, 0u);
  f.table.Opened(14, kHog, 5 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({10, 11}));
}

TEST(ConnectionTableTest, ARequestInProgressIsClosedOnlyWhenNoConnectionWaits) {
  Fixture f(Limits(3, 0));
  const int old_scrape = f.table.Opened(10, kScraper, 1 * kMs);
  f.table.RequestStarted(old_scrape);
  f.table.Opened(11, kHog, 2 * kMs);
  f.table.Opened(12, kHog, 3 * kMs);
  f.table.Opened(13, kHog, 4 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({11}));  // not the older request in progress
  // All live ones have a request in progress: the one waiting longest goes.
  Fixture g(Limits(2, 0));
  const int x = g.table.Opened(20, kHog, 1 * kMs);
  const int y = g.table.Opened(21, kHog, 2 * kMs);
  g.table.RequestStarted(y);
  g.table.RequestStarted(x);
  g.table.Opened(22, kScraper, 3 * kMs);
  EXPECT_EQ(g.closed, std::vector<int>({20}));
}

TEST(ConnectionTableTest, AnAnsweredRequestRestartsTheConnectionsWait) {
  Fixture f(Limits(2, 0));
  const int keep_alive = f.table.Opened(10, kScraper, 1 * kMs);
  f.table.Opened(11, kHog, 2 * kMs);
  f.table.RequestStarted(keep_alive);
  f.table.RequestCompleted(keep_alive, 3 * kMs);
  f.table.Opened(12, kHog, 4 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({11}));
  // Its headers are due one deadline after the previous answer.
  f.closed.clear();
  f.table.CloseOverdue(10 * kSecond + 2 * kMs);
  EXPECT_TRUE(f.closed.empty());
  f.table.CloseOverdue(10 * kSecond + 3 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({10}));
}

TEST(ConnectionTableTest, PerAddressLimitClosesThatAddresssOldestAndNeverTheNewcomer) {
  Fixture f(Limits(64, 2));
  const int scrape = f.table.Opened(10, kScraper, 0);
  f.table.RequestStarted(scrape);
  f.table.Opened(11, kHog, 1 * kMs);
  f.table.Opened(12, kHog, 2 * kMs);
  f.table.Opened(13, kHog, 3 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({11}));
  // A scraper sharing the hogs' address gets in, and stays while more come.
  const int same_address_scrape = f.table.Opened(14, kHog, 4 * kMs);
  EXPECT_NE(same_address_scrape, ConnectionTable::kUntracked);
  f.table.RequestStarted(same_address_scrape);
  f.table.Opened(15, kHog, 5 * kMs);
  f.table.Opened(16, kHog, 6 * kMs);
  EXPECT_EQ(f.closed, std::vector<int>({11, 12, 13, 15}));
  EXPECT_EQ(f.table.counts().live, 3u);
}

TEST(ConnectionTableTest, HeadersAreDueOneDeadlineAfterTheAcceptHoweverTheyTrickle) {
  Fixture f(Limits(8, 0));
  const int trickling = f.table.Opened(10, kHog, 0);
  const int scrape = f.table.Opened(11, kScraper, 4 * kSecond);
  EXPECT_EQ(f.table.CloseOverdue(5 * kSecond), 10 * kSecond);
  // Bytes arriving change nothing: only complete headers do.
  f.table.RequestStarted(scrape);
  EXPECT_EQ(f.table.CloseOverdue(10 * kSecond - 1), 10 * kSecond);
  EXPECT_TRUE(f.closed.empty());
  EXPECT_EQ(f.table.CloseOverdue(10 * kSecond), ConnectionTable::kNoDeadline);
  EXPECT_EQ(f.closed, std::vector<int>({10}));
  EXPECT_EQ(f.table.counts().overdue, 1u);
  // Being closed already, it is not closed again.
  EXPECT_EQ(f.table.CloseOverdue(20 * kSecond), ConnectionTable::kNoDeadline);
  EXPECT_EQ(f.closed, std::vector<int>({10}));
  f.table.Closed(trickling);
  EXPECT_EQ(f.table.counts().closing, 0u);
}

TEST(ConnectionTableTest, NoDeadlineClosesNothing) {
  ConnectionTableLimits limits = Limits(8, 0);
  limits.header_deadline_ns = 0;
  Fixture f(limits);
  f.table.Opened(10, kHog, 0);
  EXPECT_EQ(f.table.CloseOverdue(1000 * kSecond), ConnectionTable::kNoDeadline);
  EXPECT_TRUE(f.closed.empty());
}

TEST(ConnectionTableTest, AConnectionReportedClosedIsNeverShutDown) {
  // libmicrohttpd closes the descriptor right after Closed(); its number may
  // then belong to anything else in the process.
  Fixture f(Limits(4, 0));
  const int gone = f.table.Opened(10, kHog, 0);
  f.table.Opened(11, kHog, 1 * kMs);
  f.table.Closed(gone);
  f.table.CloseOverdue(100 * kSecond);
  EXPECT_EQ(f.closed, std::vector<int>({11}));
  // Stale or bogus slots are ignored.
  f.table.Closed(ConnectionTable::kUntracked);
  f.table.Closed(1000);
  f.table.RequestStarted(-5);
  f.table.RequestCompleted(1000, 0);
  const ConnectionTable::Counts c = f.table.counts();
  EXPECT_EQ(c.live, 0u);
  EXPECT_EQ(c.closing, 1u);
}

TEST(ConnectionTableTest, AFullTableRefusesTheNewcomerAndCountsIt) {
  ConnectionTableLimits limits = Limits(2, 0);
  limits.capacity = 3;
  Fixture f(limits);
  f.table.Opened(10, kHog, 0);
  f.table.Opened(11, kHog, 1);
  f.table.Opened(12, kHog, 2);  // evicts 10, which has not gone yet
  EXPECT_EQ(f.table.Opened(13, kHog, 3), ConnectionTable::kUntracked);
  EXPECT_EQ(f.closed, std::vector<int>({10, 13}));
  const ConnectionTable::Counts c = f.table.counts();
  EXPECT_EQ(c.refused, 1u);
  EXPECT_EQ(c.live, 2u);
  EXPECT_EQ(c.closing, 1u);
}

}  // namespace
}  // namespace tkmprom
