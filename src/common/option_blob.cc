#include "src/common/option_blob.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tkmprom {
namespace {

constexpr size_t kMaxBlobBytes = kMaxOptions * 2 * (kMaxOptionBytes + 1);

}  // namespace

std::string EncodeOptions(const OptionList& options) {
  std::string blob;
  for (const auto& [key, value] : options) {
    blob.append(key).push_back('\0');
    blob.append(value).push_back('\0');
  }
  return blob;
}

bool DecodeOptions(const std::string& blob, OptionList* out) {
  OptionList options;
  size_t pos = 0;
  while (pos < blob.size()) {
    std::string parts[2];
    for (std::string& part : parts) {
      const size_t end = blob.find('\0', pos);
      if (end == std::string::npos || end - pos > kMaxOptionBytes) return false;
      part.assign(blob, pos, end - pos);
      pos = end + 1;
    }
    if (options.size() == kMaxOptions) return false;
    options.emplace_back(std::move(parts[0]), std::move(parts[1]));
  }
  *out = std::move(options);
  return true;
}

int OptionsToMemfd(const std::string& blob, std::string* error) {
  const int fd = memfd_create("tkmprom-options", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    *error = std::string("memfd_create for the options failed: ") + std::strerror(errno);
    return -1;
  }
  size_t done = 0;
  while (done < blob.size()) {
    const ssize_t n = write(fd, blob.data() + done, blob.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("writing the options failed: ") + std::strerror(errno);
      close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  // Sealed: no process can change what a later companion reads.
  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

bool ReadOptionsFd(int fd, std::string* blob, std::string* error) {
  blob->clear();
  char buf[4096];
  for (off_t offset = 0;;) {
    const ssize_t n = pread(fd, buf, sizeof(buf), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read the options: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    if (blob->size() + static_cast<size_t>(n) > kMaxBlobBytes) {
      *error = "the options are too large";
      return false;
    }
    blob->append(buf, static_cast<size_t>(n));
    offset += n;
  }
}

}  // namespace tkmprom
