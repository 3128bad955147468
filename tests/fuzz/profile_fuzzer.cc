// Fuzzes the profile parser: any text must give a Profile or a clean error,
// and an accepted profile, rendered by DescribeProfile(), must not contain
// the password.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/config/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sstp::config::Profile> profile = sstp::config::ParseProfile(text, "fuzz.conf");
  if (!profile.ok()) {
    if (profile.status().message().empty()) std::abort();  // Errors must say why.
    return 0;
  }
  const std::string description = sstp::config::DescribeProfile(*profile);
  const absl::string_view password = profile->auth.password.reveal();
  // A password long enough not to occur by chance in the rendering.
  if (password.size() >= 12 && description.find(std::string(password)) != std::string::npos) std::abort();
  return 0;
}
