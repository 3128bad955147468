// Fuzzes the profile parser: any text must give a Profile or a clean error,
// and DescribeProfile() of an accepted profile must not depend on the
// password (it shows "(set)", never the value).
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
  // The rendering must not depend on the password at all: render again
  // with a different one and compare.
  sstp::config::Profile other = *profile;
  if (!other.auth.password.empty()) {
    other.auth.password = sstp::SecretString(std::string(profile->auth.password.reveal()) + "x");
  }
  if (sstp::config::DescribeProfile(*profile) != sstp::config::DescribeProfile(other)) std::abort();
  return 0;
}
