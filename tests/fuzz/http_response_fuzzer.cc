// Fuzzes the SSTP HTTP response parsing (MS-SSTP 3.2.4.1, 4.1, 4.5):
// FindHeaderEnd() and ParseHttpResponse().
//
// Invariants checked (abort() on violation):
//   - FindHeaderEnd() reports an end inside the input and within the size
//     limit, and a parse succeeds only when it found one;
//   - parsing the header block alone gives the same response as parsing the
//     whole input (bytes after the block are not looked at);
//   - a parsed response is HTTP/1.x with a 3-digit status, and Find() on
//     every header name, in any case, returns the value of the first header
//     of that name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "daemon/sstp/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::optional<size_t>> end = sstp::proto::FindHeaderEnd(input);
  if (end.ok() && end->has_value() &&
      (**end > size || **end > sstp::proto::kMaxHttpHeaderSize)) {
    abort();
  }
  absl::StatusOr<sstp::proto::HttpResponse> response = sstp::proto::ParseHttpResponse(input);
  if (!response.ok()) return 0;
  if (!end.ok() || !end->has_value()) abort();

  absl::StatusOr<sstp::proto::HttpResponse> block =
      sstp::proto::ParseHttpResponse(input.substr(0, **end));
  if (!block.ok() || block->status_code != response->status_code ||
      block->reason != response->reason || block->headers != response->headers) {
    abort();
  }
  if (response->major != 1 || response->minor < 0 || response->minor > 9 ||
      response->status_code < 0 || response->status_code > 999) {
    abort();
  }
  for (const auto& [name, value] : response->headers) {
    std::optional<absl::string_view> found = response->Find(name);
    std::optional<absl::string_view> upper = response->Find(absl::AsciiStrToUpper(name));
    std::optional<absl::string_view> lower = response->Find(absl::AsciiStrToLower(name));
    if (!found || !upper || !lower || *found != *upper || *found != *lower) abort();
    // The first header of that name wins.
    for (const auto& [other_name, other_value] : response->headers) {
      if (absl::EqualsIgnoreCase(other_name, name)) {
        if (*found != other_value) abort();
        break;
      }
    }
  }
  return 0;
}
