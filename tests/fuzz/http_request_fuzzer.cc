// Fuzzes the server side of the SSTP HTTP exchange (MS-SSTP 3.2.4.1, 4.1):
// FindHeaderEnd(kRequest), ParseHttpRequest() and IsSstpDuplexPost(), as the
// project's test server runs them on what a client sends.
//
// Invariants checked (abort() on violation):
//   - a parse succeeds only when FindHeaderEnd() found the end of the block,
//     and parsing the block alone gives the same request;
//   - a parsed request has a non-empty token method, a non-empty target of
//     visible ASCII and HTTP/1.x;
//   - writing the parsed request back in canonical form (CRLF, one space
//     after each colon) and parsing that gives the same request, and the
//     same IsSstpDuplexPost() verdict;
//   - a request IsSstpDuplexPost() accepts has exactly the header values it
//     promises (Content-Length 18446744073709551615, non-empty Host and
//     SSTPCORRELATIONID).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/sstp/http.h"

namespace {

using sstp::proto::HttpRequest;

bool SameRequest(const HttpRequest& a, const HttpRequest& b) {
  return a.method == b.method && a.target == b.target && a.major == b.major && a.minor == b.minor &&
         a.headers == b.headers;
}

std::string Canonical(const HttpRequest& request) {
  std::string text = absl::StrCat(request.method, " ", request.target, " HTTP/", request.major, ".",
                                  request.minor, "\r\n");
  for (const auto& [name, value] : request.headers) {
    absl::StrAppend(&text, name, ": ", value, "\r\n");
  }
  text.append("\r\n");
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::optional<size_t>> end =
      sstp::proto::FindHeaderEnd(input, sstp::proto::HttpMessage::kRequest);
  absl::StatusOr<HttpRequest> request = sstp::proto::ParseHttpRequest(input);
  if (!request.ok()) return 0;
  if (!end.ok() || !end->has_value() || **end > size) abort();

  absl::StatusOr<HttpRequest> block = sstp::proto::ParseHttpRequest(input.substr(0, **end));
  if (!block.ok() || !SameRequest(*block, *request)) abort();

  if (request->method.empty() || request->target.empty() || request->major != 1 ||
      request->minor < 0 || request->minor > 9) {
    abort();
  }
  for (char c : request->method + request->target) {
    if (c <= 0x20 || c >= 0x7F) abort();
  }

  const std::string canonical = Canonical(*request);
  absl::StatusOr<HttpRequest> again = sstp::proto::ParseHttpRequest(canonical);
  if (canonical.size() <= sstp::proto::kMaxHttpHeaderSize &&
      (!again.ok() || !SameRequest(*again, *request))) {
    abort();
  }

  const absl::Status verdict = sstp::proto::IsSstpDuplexPost(*request);
  if (again.ok() && sstp::proto::IsSstpDuplexPost(*again) != verdict) abort();
  if (verdict.ok()) {
    const std::optional<absl::string_view> length = request->Find("content-length");
    const std::optional<absl::string_view> host = request->Find("HOST");
    const std::optional<absl::string_view> id = request->Find("SstpCorrelationId");
    if (!length || *length != sstp::proto::kSstpContentLength || !host || host->empty() || !id ||
        id->empty() || request->method != "SSTP_DUPLEX_POST") {
      abort();
    }
  }
  return 0;
}
