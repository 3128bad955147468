// The HTTP exchange that opens an SSTP tunnel (MS-SSTP 3.2.4.1, 4.1) and the
// CONNECT request for an HTTP proxy (MS-SSTP 4.5), from both ends: the
// client builds the request and parses the response; the project's test
// server (tools/) parses the request and builds the response.
//
// Messages are built as strings and parsed from the bytes read so far. No
// I/O. Errors quote at most 64 bytes of peer data, escaped.
//
// Parsing follows RFC 9112 strictly, with one documented leniency: a bare
// LF is accepted as a line terminator (RFC 9112 2.2 allows a recipient to),
// because small proxies and test servers send it; a bare CR is rejected.
// obs-fold continuation lines, whitespace before the colon and control
// characters in a field are rejected. Requests and responses share the
// header-block parser.
#ifndef SSTP_KTLS_DAEMON_SSTP_HTTP_H_
#define SSTP_KTLS_DAEMON_SSTP_HTTP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "base/random.h"
#include "base/secret.h"

namespace sstp::proto {

// MS-SSTP 3.2.4.1: the URI the server listens on.
inline constexpr absl::string_view kSstpUri =
    "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/";
// MS-SSTP 3.2.4.1: Content-Length is ULONGLONG_MAX.
inline constexpr absl::string_view kSstpContentLength = "18446744073709551615";
inline constexpr uint16_t kHttpsPort = 443;
// A header block (request or response) larger than this is refused.
inline constexpr size_t kMaxHttpHeaderSize = 8192;

// Which message a header block belongs to; it names the message in errors
// ("HTTP request header exceeds 8192 bytes").
enum class HttpMessage { kRequest, kResponse };

// Header fields in arrival order, as received (names keep their case;
// values without surrounding whitespace).
using HttpHeaderFields = std::vector<std::pair<std::string, std::string>>;

// Bytes read from the peer, as the text the parsers below take.
inline absl::string_view AsText(absl::Span<const uint8_t> bytes) {
  return absl::string_view(reinterpret_cast<const char*>(bytes.data()),
                           bytes.size());
}

// "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}", upper case, the bytes taken in
// order (RFC 4122 byte order) — the GUID string form of MS-DTYP 2.3.4.3.
std::string FormatGuid(const std::array<uint8_t, 16>& bytes);

// A fresh random (version 4, RFC 4122 4.4) GUID in FormatGuid() form, for
// SSTPCORRELATIONID (MS-SSTP 3.2.4.1: a new one for each connection attempt).
std::string NewCorrelationId(Random& random);

// MS-SSTP 3.2.4.1 / 4.1:
//   SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n
//   Host: <host>\r\n                      (":port" added when not 443)
//   Content-Length: 18446744073709551615\r\n
//   SSTPCORRELATIONID: <correlation_id>\r\n
//   \r\n
// `host` is a DNS name or an IP literal; an IPv6 literal is put in
// brackets. `correlation_id` is a FormatGuid() string, braces included.
// Fails if the host or the ID holds characters that do not belong there.
absl::StatusOr<std::string> BuildDuplexPostRequest(
    absl::string_view host, absl::string_view correlation_id,
    uint16_t port = kHttpsPort);

struct ProxyCredentials {
  std::string user;  // RFC 7617: must not contain ':'.
  SecretString password;
};

// MS-SSTP 4.5:
//   CONNECT <host>:<port> HTTP/1.1\r\n
//   Host: <host>:<port>\r\n
//   SSTPVERSION: 1.0\r\n
//   [Proxy-Authorization: Basic base64(user:password)\r\n]   (RFC 7617)
//   \r\n
// Returned as a SecretString because it may carry the proxy password: send
// reveal() and let it go out of scope.
absl::StatusOr<SecretString> BuildProxyConnectRequest(
    absl::string_view host, uint16_t port,
    const std::optional<ProxyCredentials>& credentials);

// Where the header block ends: the offset just past the empty line that ends
// it, or nullopt if the empty line has not arrived yet. Fails once
// kMaxHttpHeaderSize bytes have arrived without it.
absl::StatusOr<std::optional<size_t>> FindHeaderEnd(
    absl::string_view bytes, HttpMessage kind = HttpMessage::kResponse);
inline absl::StatusOr<std::optional<size_t>> FindHeaderEnd(
    absl::Span<const uint8_t> bytes,
    HttpMessage kind = HttpMessage::kResponse) {
  return FindHeaderEnd(AsText(bytes), kind);
}

// What a parsed request and response share: the HTTP version and the
// header fields.
struct HttpMessageHead {
  int major = 1;
  int minor = 1;
  HttpHeaderFields headers;

  // The value of the first header called `name`, compared without regard
  // to case (RFC 9110 5.1); nullopt if there is none.
  std::optional<absl::string_view> Find(absl::string_view name) const;
};

struct HttpResponse : HttpMessageHead {
  int status_code = 0;
  std::string reason;
};

// Parses a response header block: the status line "HTTP/1.x SP 3DIGIT SP
// reason" and the header fields, up to the empty line. `bytes` must hold the
// whole block (see FindHeaderEnd()); anything after the empty line is not
// looked at. Only HTTP/1.x is accepted.
absl::StatusOr<HttpResponse> ParseHttpResponse(absl::string_view bytes);
inline absl::StatusOr<HttpResponse> ParseHttpResponse(
    absl::Span<const uint8_t> bytes) {
  return ParseHttpResponse(AsText(bytes));
}

// --- The server's side (the project's test server).

struct HttpRequest : HttpMessageHead {
  std::string method;  // A token (RFC 9110 9.1), case-sensitive.
  std::string target;  // As sent: visible ASCII, no spaces.
};

// Parses a request header block: the request line "method SP target SP
// HTTP/x.y" (RFC 9112 3, single spaces) and the header fields, up to the
// empty line. `bytes` must hold the whole block (see FindHeaderEnd() with
// HttpMessage::kRequest); anything after it is not looked at. Only HTTP/1.x
// is accepted. Errors such as
//   "HTTP request line malformed (method is not a token): \"GET(x) / ..\""
absl::StatusOr<HttpRequest> ParseHttpRequest(absl::string_view bytes);
inline absl::StatusOr<HttpRequest> ParseHttpRequest(
    absl::Span<const uint8_t> bytes) {
  return ParseHttpRequest(AsText(bytes));
}

// OK if `request` is the request that opens an SSTP tunnel (MS-SSTP 3.2.4.1,
// 4.1: "validates the method to be SSTP_DUPLEX_POST and the HTTP version to
// be 1.1"), else kInvalidArgument naming the first deviation, checked in
// this order:
//   - method exactly SSTP_DUPLEX_POST (methods are case-sensitive);
//   - target kSstpUri, compared without regard to case (clients differ in
//     the case of the GUID's hex digits);
//   - HTTP/1.1;
//   - Host, Content-Length and SSTPCORRELATIONID each present exactly once
//     (RFC 9112 3.2 for Host) and non-empty (the correlation ID's form is
//     not checked: a server only logs it);
//   - Content-Length equal to kSstpContentLength, and no
//     Transfer-Encoding (which would override it, RFC 9112 6.3).
// e.g. "SSTP request method \"POST\" is not SSTP_DUPLEX_POST",
//      "SSTP request has no SSTPCORRELATIONID header".
absl::Status IsSstpDuplexPost(const HttpRequest& request);

// The reply of a real server (MS-SSTP 4.1, Windows' HTTP.sys):
//   HTTP/1.1 200 OK\r\n
//   Content-Length: 18446744073709551615\r\n
//   Server: Microsoft-HTTPAPI/2.0\r\n
//   [Date: <IMF-fixdate of `date`, RFC 9110 5.6.7>\r\n]
//   \r\n
// `date` is the caller's clock reading (this module reads no clock).
std::string BuildDuplexPostResponse(
    std::optional<absl::Time> date = std::nullopt);

}  // namespace sstp::proto

#endif  // SSTP_KTLS_DAEMON_SSTP_HTTP_H_
