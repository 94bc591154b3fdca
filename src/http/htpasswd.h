// Parsing of htpasswd-style files for plugin_opt_http_auth_file: one
// `user:bcrypt-hash` line per user, as `htpasswd -B` writes them.
//
// Only bcrypt ($2y$, $2b$, $2a$) is accepted: the other htpasswd formats
// (MD5-APR, SHA-1, crypt, plain) are fast to brute-force, and refusing them
// at init beats serving metrics behind a weak hash.
//
// Thread safety: free functions on values; call them from any thread.
#ifndef TKMPROM_SRC_HTTP_HTPASSWD_H_
#define TKMPROM_SRC_HTTP_HTPASSWD_H_

#include <string>
#include <string_view>
#include <vector>

namespace tkmprom {

struct HtpasswdEntry {
  std::string user;
  std::string hash;  // a bcrypt hash, 60 characters
};

// True for `$2y$`, `$2b$` or `$2a$`, a two-digit cost from 04 to 31, `$`,
// and 53 characters of bcrypt's base64 alphabet.
bool IsBcryptHash(std::string_view hash);

// The cost of a hash IsBcryptHash accepts (4 to 31).
int BcryptCost(std::string_view hash);

// Parses `text`. Empty lines and lines starting with '#' are skipped; a
// trailing '\r' (a file edited on Windows) is ignored. Every other line must
// be `user:hash` with a non-empty user and a bcrypt hash, and no user may
// appear twice. Returns false with `*error` naming the line ("line 3: ...")
// or, when no line names a user, saying so; `*entries` is then unchanged.
bool ParseHtpasswd(std::string_view text, std::vector<HtpasswdEntry>* entries, std::string* error);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_HTPASSWD_H_
