#include "src/http/htpasswd.h"

#include <set>
#include <utility>

namespace tkmprom {
namespace {

constexpr size_t kBcryptLength = 60;  // "$2b$10$" + 22 salt + 31 hash characters

bool IsBcryptBase64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

}  // namespace

bool IsBcryptHash(std::string_view hash) {
  if (hash.size() != kBcryptLength || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' ||
      hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'y' && hash[2] != 'b' && hash[2] != 'a') return false;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return false;
  const int cost = BcryptCost(hash);
  if (cost < 4 || cost > 31) return false;
  for (size_t i = 7; i < hash.size(); ++i) {
    if (!IsBcryptBase64(hash[i])) return false;
  }
  return true;
}

int BcryptCost(std::string_view hash) {
  if (hash.size() < 6) return 0;
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

bool ParseHtpasswd(std::string_view text, std::vector<HtpasswdEntry>* entries, std::string* error) {
  std::vector<HtpasswdEntry> parsed;
  std::set<std::string_view> users;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(line_number) + ": ";
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      *error = where + "not of the form user:bcrypt-hash";
      return false;
    }
    const std::string_view user = line.substr(0, colon);
    const std::string_view hash = line.substr(colon + 1);
    if (user.empty()) {
      *error = where + "the user name is empty";
      return false;
    }
    if (!IsBcryptHash(hash)) {
      // The user name is the operator's own; the hash is never echoed.
      *error = where + "the hash of user '" + std::string(user) +
               "' is not a bcrypt hash ($2y$/$2b$/$2a$, as written by htpasswd -B)";
      return false;
    }
    if (!users.insert(user).second) {
      *error = where + "user '" + std::string(user) + "' appears twice";
      return false;
    }
    parsed.push_back({std::string(user), std::string(hash)});
  }
  if (parsed.empty()) {
    *error = "no user:bcrypt-hash line in it";
    return false;
  }
  *entries = std::move(parsed);
  return true;
}

}  // namespace tkmprom
