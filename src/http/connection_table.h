// ConnectionTable: the HTTP listener's open connections, so that connections
// which hold a place without asking for anything cannot keep a scrape out.
// libmicrohttpd alone refuses new connections at its limit and restarts its
// idle timer with every byte, so 264 silent or trickling connections from
// the scraper's own address kept every scrape out (issue 13). Here:
//
// - At most `connection_limit` connections are live. A new one beyond it
//   closes the one that has gone longest without completing a request
//   (since its accept, or since its previous request was answered): first
//   among those still waiting for their request's headers, and only when
//   none is waiting, among those with a request in progress. The same holds
//   per client address (client_address.h) with `per_address_limit`, among
//   that address's connections: the newest connection is never the one
//   closed, so a scraper sharing its address with the hogs still gets in.
// - A request's headers must all arrive within `header_deadline_ns` of the
//   connection's accept (or of its previous request's end), however slowly
//   they trickle: CloseOverdue(), called periodically, closes the rest.
// - Closing is asking libmicrohttpd to close: the CloseFn (shutdown(fd,
//   SHUT_RDWR) in the server) makes the connection's next read fail, and
//   libmicrohttpd then closes it and reports Closed(). A connection being
//   closed is no longer live; it stays in the table until Closed().
// - The table holds at most `capacity` connections, live or being closed
//   (the server gives libmicrohttpd this as its own limit, so that evicted
//   connections still draining leave room for new ones). A connection that
//   finds it full is closed at once and counted in refused.
//
// Descriptor reuse: the CloseFn is only ever called, under the table's lock,
// for a descriptor registered between Opened() and Closed(). libmicrohttpd
// reports Closed() before it closes the descriptor, and Closed() takes the
// same lock, so a descriptor is never shut down after its number was reused.
//
// Thread safety: every method may be called from any thread (libmicrohttpd's
// threads and the server's sweeper). One mutex guards the table; the CloseFn
// runs under it and must not call back into the table. Times are
// nanoseconds of one monotonic clock, passed in by the caller.
#ifndef TKMPROM_SRC_HTTP_CONNECTION_TABLE_H_
#define TKMPROM_SRC_HTTP_CONNECTION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "src/http/client_address.h"

namespace tkmprom {

struct ConnectionTableLimits {
  size_t capacity = 128;
  size_t connection_limit = 64;
  size_t per_address_limit = 16;                          // 0: none
  int64_t header_deadline_ns = int64_t{10} * 1000000000;  // 0: none
};

class ConnectionTable {
 public:
  using CloseFn = std::function<void(int fd)>;
  static constexpr int kUntracked = -1;
  static constexpr int64_t kNoDeadline = INT64_MAX;

  struct Counts {
    uint64_t opened = 0;   // connections tracked so far
    size_t live = 0;       // open and not being closed
    size_t closing = 0;    // closed by the table, not yet reported Closed()
    uint64_t evicted = 0;  // closed to make room for a newer connection
    uint64_t overdue = 0;  // closed because their headers missed the deadline
    uint64_t refused = 0;  // closed at once because the table was full
  };

  ConnectionTable(const ConnectionTableLimits& limits, CloseFn close);

  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // A connection was accepted on `fd`. Returns its slot for the calls
  // below, or kUntracked when the table was full (it has been closed then).
  // May close older connections to stay within the limits.
  int Opened(int fd, const ClientAddress& address, int64_t now_ns) EXCLUDES(mu_);

  // The headers of a request on `slot` are complete (idempotent).
  void RequestStarted(int slot) EXCLUDES(mu_);

  // The request on `slot` was answered; the connection waits for the next.
  void RequestCompleted(int slot, int64_t now_ns) EXCLUDES(mu_);

  // libmicrohttpd is about to close the connection's descriptor.
  void Closed(int slot) EXCLUDES(mu_);

  // Closes the connections whose request headers are overdue. Returns when
  // the next one will be (kNoDeadline: none waits).
  int64_t CloseOverdue(int64_t now_ns) EXCLUDES(mu_);

  Counts counts() const EXCLUDES(mu_);

 private:
  struct Slot {
    bool used = false;
    bool closing = false;
    bool in_request = false;  // headers complete, not answered yet
    int fd = -1;
    ClientAddress address;
    int64_t since_ns = 0;  // accept, or the end of the previous request
  };

  // The connection to close for room, other than `except`, among those of
  // `address` (or all with null); -1 when there is none.
  int Victim(int except, const ClientAddress* address) const REQUIRES(mu_);
  void Close(int slot) REQUIRES(mu_);
  bool Valid(int slot) const REQUIRES(mu_);

  const ConnectionTableLimits limits_;
  const CloseFn close_;
  mutable Mutex mu_;
  std::vector<Slot> slots_ GUARDED_BY(mu_);  // capacity entries
  Counts counts_ GUARDED_BY(mu_);
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_CONNECTION_TABLE_H_
