#include "daemon/sstp/http.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/status.h"

namespace sstp::proto {
namespace {

// Peer data quoted in an error is cut to this many bytes.
constexpr size_t kMaxQuoted = 64;

// `text` quoted and C-escaped, at most kMaxQuoted bytes of it.
std::string Quote(absl::string_view text) {
  std::string out = absl::StrCat(
      "\"", absl::CEscape(text.substr(0, kMaxQuoted)), "\"");
  if (text.size() > kMaxQuoted) {
    absl::StrAppend(&out, "... (", text.size(), " bytes)");
  }
  return out;
}

absl::string_view MessageName(HttpMessage kind) {
  return kind == HttpMessage::kRequest ? "request" : "response";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 9110 5.6.2: tchar.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// RFC 9110 5.5 field-vchar / SP / HTAB, also what a reason-phrase may hold
// (RFC 9112 4): anything but the control characters.
bool IsFieldChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7F);
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

absl::string_view StripOws(absl::string_view text) {
  while (!text.empty() && IsOws(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsOws(text.back())) text.remove_suffix(1);
  return text;
}

// A host for the Host header / CONNECT target: a DNS name or IPv4 literal
// ([A-Za-z0-9._-]), or an IPv6 literal (hex digits, ':' and '.'), which is
// returned in brackets (RFC 3986 3.2.2). A zone ID ("%eth0") is refused:
// RFC 6874 keeps it off the wire.
absl::StatusOr<std::string> AuthorityHost(absl::string_view host) {
  if (host.empty()) return absl::InvalidArgumentError("HTTP host is empty");
  if (host.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP host ", Quote(host), " is longer than 255 bytes"));
  }
  absl::string_view literal = host;
  if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    literal = host.substr(1, host.size() - 2);
  }
  const bool ipv6 = absl::StrContains(literal, ':');
  for (char c : literal) {
    const bool ok =
        ipv6 ? (absl::ascii_isxdigit(static_cast<unsigned char>(c)) ||
                c == ':' || c == '.')
             : (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                c == '.' || c == '-' || c == '_');
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP host ", Quote(host), " holds ",
                       Quote(absl::string_view(&c, 1)), ", not allowed in ",
                       ipv6 ? "an IPv6 literal" : "a host name"));
    }
  }
  if (ipv6) return absl::StrCat("[", literal, "]");
  if (literal != host) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP host ", Quote(host), " in brackets is not IPv6"));
  }
  return std::string(host);
}

// MS-DTYP 2.3.4.3 GUID string, braces included.
bool IsGuidString(absl::string_view text) {
  if (text.size() != 38 || text.front() != '{' || text.back() != '}') {
    return false;
  }
  for (size_t i = 1; i < 37; ++i) {
    const bool dash = i == 9 || i == 14 || i == 19 || i == 24;
    if (dash ? text[i] != '-'
             : !absl::ascii_isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

absl::Status MalformedStartLine(absl::string_view kind, absl::string_view line,
                                absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "HTTP ", kind, " line malformed (", why, "): ", Quote(line)));
}

// RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, at the start of
// `text`. False if it is not there.
bool ParseHttpVersion(absl::string_view text, int* major, int* minor) {
  if (text.size() < 8 || !absl::StartsWith(text, "HTTP/") ||
      !IsDigit(text[5]) || text[6] != '.' || !IsDigit(text[7])) {
    return false;
  }
  *major = text[5] - '0';
  *minor = text[7] - '0';
  return true;
}

// Only HTTP/1.x has this message syntax (RFC 9112 2.3).
absl::Status CheckMajorVersion(int major, int minor) {
  if (major == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "HTTP version %d.%d not supported, expected 1.x", major, minor));
}

absl::Status ParseStatusLine(absl::string_view line, HttpResponse* response) {
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [reason-phrase]
  if (!ParseHttpVersion(line, &response->major, &response->minor)) {
    return MalformedStartLine("status", line, "expected HTTP/x.y");
  }
  if (line.size() < 13 || line[8] != ' ' || !IsDigit(line[9]) ||
      !IsDigit(line[10]) || !IsDigit(line[11]) || line[12] != ' ') {
    return MalformedStartLine("status", line, "expected SP 3DIGIT SP");
  }
  RETURN_IF_ERROR(CheckMajorVersion(response->major, response->minor));
  response->status_code =
      (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  absl::string_view reason = line.substr(13);
  for (char c : reason) {
    if (!IsFieldChar(c)) {
      return MalformedStartLine("status", line, "control character in reason");
    }
  }
  response->reason = std::string(reason);
  return absl::OkStatus();
}

absl::Status ParseRequestLine(absl::string_view line, HttpRequest* request) {
  // RFC 9112 3: request-line = method SP request-target SP HTTP-version,
  // single spaces (3: a recipient may be lenient; a test server is not).
  const size_t first_space = line.find(' ');
  const size_t second_space = first_space == absl::string_view::npos
                                  ? absl::string_view::npos
                                  : line.find(' ', first_space + 1);
  if (second_space == absl::string_view::npos) {
    return MalformedStartLine("request", line,
                              "expected method SP target SP HTTP/x.y");
  }
  const absl::string_view method = line.substr(0, first_space);
  const absl::string_view target =
      line.substr(first_space + 1, second_space - first_space - 1);
  const absl::string_view version = line.substr(second_space + 1);
  if (method.empty() ||
      !std::all_of(method.begin(), method.end(), IsTokenChar)) {
    return MalformedStartLine("request", line, "method is not a token");
  }
  // RFC 9112 3.2: the target forms are made of visible ASCII (RFC 3986).
  if (target.empty() ||
      !std::all_of(target.begin(), target.end(), [](char c) {
        return c > 0x20 && c < 0x7F;
      })) {
    return MalformedStartLine("request", line,
                              "target is empty or not visible ASCII");
  }
  if (version.size() != 8 ||
      !ParseHttpVersion(version, &request->major, &request->minor)) {
    return MalformedStartLine("request", line,
                              "expected HTTP/x.y after the target");
  }
  RETURN_IF_ERROR(CheckMajorVersion(request->major, request->minor));
  request->method = std::string(method);
  request->target = std::string(target);
  return absl::OkStatus();
}

absl::Status ParseHeaderLine(absl::string_view line,
                             HttpHeaderFields* headers) {
  // RFC 9112 5.2: obs-fold is rejected (a user agent may instead replace it;
  // no SSTP server sends it, so refusing it is the safer reading).
  if (IsOws(line.front())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP obs-fold continuation line rejected: ", Quote(line)));
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP header line without ':': ", Quote(line)));
  }
  const absl::string_view name = line.substr(0, colon);
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP header line with an empty name: ", Quote(line)));
  }
  // RFC 9112 5.1: "No whitespace is allowed between the field name and
  // colon"; a server MUST reject such a message, and a proxy MUST strip it,
  // so a client has no reason to accept it either.
  if (IsOws(name.back())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP header has whitespace before ':': ", Quote(line)));
  }
  for (char c : name) {
    if (!IsTokenChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP header name has a character outside token: ", Quote(line)));
    }
  }
  const absl::string_view value = StripOws(line.substr(colon + 1));
  for (char c : value) {
    if (!IsFieldChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP header ", Quote(name), " value has a control character"));
    }
  }
  headers->emplace_back(std::string(name), std::string(value));
  return absl::OkStatus();
}

// Parses a header block into a Message (HttpRequest or HttpResponse): the
// first line by `start_line`, the others by ParseHeaderLine(), up to the
// empty line.
template <typename Message>
absl::StatusOr<Message> ParseMessage(
    absl::string_view bytes, HttpMessage kind,
    absl::Status (*start_line)(absl::string_view, Message*)) {
  ASSIGN_OR_RETURN(const std::optional<size_t> end, FindHeaderEnd(bytes, kind));
  if (!end) {
    return absl::InvalidArgumentError(
        absl::StrFormat("HTTP %s header incomplete: no empty line in %d bytes",
                        MessageName(kind), bytes.size()));
  }
  absl::string_view block = bytes.substr(0, *end);
  Message message;
  bool first = true;
  int line_number = 0;
  while (!block.empty()) {
    ++line_number;
    const size_t lf = block.find('\n');  // Present: the block ends with one.
    absl::string_view line = block.substr(0, lf);
    block.remove_prefix(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // RFC 9112 2.2: a bare CR is rejected.
    if (absl::StrContains(line, '\r')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP line ", line_number, " holds a bare CR: ", Quote(line)));
    }
    if (first) {
      RETURN_IF_ERROR(start_line(line, &message));
      first = false;
      continue;
    }
    if (line.empty()) break;  // The end of the block.
    RETURN_IF_ERROR(ParseHeaderLine(line, &message.headers));
  }
  return message;
}

size_t CountField(const HttpHeaderFields& headers, absl::string_view name) {
  return static_cast<size_t>(std::count_if(
      headers.begin(), headers.end(), [name](const auto& field) {
        return absl::EqualsIgnoreCase(field.first, name);
      }));
}

// RFC 9110 5.6.7: IMF-fixdate, e.g. "Thu, 09 Nov 2006 00:51:09 GMT". The
// names are spelled here, not taken from the C library's locale.
std::string ImfFixdate(absl::Time time) {
  const absl::CivilSecond utc = absl::ToCivilSecond(time, absl::UTCTimeZone());
  absl::string_view day = "";
  switch (absl::GetWeekday(utc)) {
    case absl::Weekday::monday: day = "Mon"; break;
    case absl::Weekday::tuesday: day = "Tue"; break;
    case absl::Weekday::wednesday: day = "Wed"; break;
    case absl::Weekday::thursday: day = "Thu"; break;
    case absl::Weekday::friday: day = "Fri"; break;
    case absl::Weekday::saturday: day = "Sat"; break;
    case absl::Weekday::sunday: day = "Sun"; break;
  }
  static constexpr absl::string_view kMonths[12] = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun",
      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return absl::StrFormat("%s, %02d %s %04d %02d:%02d:%02d GMT", day, utc.day(),
                         kMonths[utc.month() - 1], utc.year(), utc.hour(),
                         utc.minute(), utc.second());
}

}  // namespace

std::string FormatGuid(const std::array<uint8_t, 16>& b) {
  return absl::StrFormat(
      "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
      b[12], b[13], b[14], b[15]);
}

std::string NewCorrelationId(Random& random) {
  std::array<uint8_t, 16> bytes;
  random.Fill(absl::MakeSpan(bytes));
  // RFC 4122 4.4: version 4 in the high nibble of byte 6, variant 10xx in
  // byte 8.
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);
  return FormatGuid(bytes);
}

absl::StatusOr<std::string> BuildDuplexPostRequest(
    absl::string_view host, absl::string_view correlation_id, uint16_t port) {
  ASSIGN_OR_RETURN(std::string authority, AuthorityHost(host));
  if (port == 0) return absl::InvalidArgumentError("HTTP port 0");
  if (port != kHttpsPort) absl::StrAppend(&authority, ":", port);
  if (!IsGuidString(correlation_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSTPCORRELATIONID ", Quote(correlation_id),
                     " is not a {GUID} string"));
  }
  return absl::StrCat("SSTP_DUPLEX_POST ", kSstpUri, " HTTP/1.1\r\n",
                      "Host: ", authority, "\r\n",
                      "Content-Length: ", kSstpContentLength, "\r\n",
                      "SSTPCORRELATIONID: ", correlation_id, "\r\n",
                      "\r\n");
}

absl::StatusOr<SecretString> BuildProxyConnectRequest(
    absl::string_view host, uint16_t port,
    const std::optional<ProxyCredentials>& credentials) {
  ASSIGN_OR_RETURN(const std::string authority, AuthorityHost(host));
  if (port == 0) return absl::InvalidArgumentError("HTTP port 0");
  const std::string target = absl::StrCat(authority, ":", port);
  std::string request =
      absl::StrCat("CONNECT ", target, " HTTP/1.1\r\n", "Host: ", target,
                   "\r\n", "SSTPVERSION: 1.0\r\n");
  if (credentials) {
    // RFC 7617 2: user-id and password joined by ':'; so no ':' in user-id.
    if (absl::StrContains(credentials->user, ':')) {
      return absl::InvalidArgumentError(
          "HTTP proxy user name must not contain ':' (RFC 7617)");
    }
    std::string user_pass = absl::StrCat(credentials->user, ":",
                                         credentials->password.reveal());
    std::string encoded = absl::Base64Escape(user_pass);
    request.reserve(request.size() + encoded.size() + 64);
    absl::StrAppend(&request, "Proxy-Authorization: Basic ", encoded, "\r\n");
    WipeBytes(user_pass.data(), user_pass.size());
    WipeBytes(encoded.data(), encoded.size());
  }
  request.append("\r\n");
  return SecretString(std::move(request));
}

absl::StatusOr<std::optional<size_t>> FindHeaderEnd(absl::string_view bytes,
                                                     HttpMessage kind) {
  // The block ends with an empty line: LF followed by LF or CR LF.
  const size_t limit = std::min(bytes.size(), kMaxHttpHeaderSize);
  for (size_t i = 0; i < limit; ++i) {
    if (bytes[i] != '\n') continue;
    size_t next = i + 1;
    if (next < bytes.size() && bytes[next] == '\r') ++next;
    if (next < bytes.size() && bytes[next] == '\n') {
      const size_t end = next + 1;
      if (end > kMaxHttpHeaderSize) break;
      return std::optional<size_t>(end);
    }
  }
  if (bytes.size() >= kMaxHttpHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("HTTP %s header exceeds %d bytes", MessageName(kind),
                        kMaxHttpHeaderSize));
  }
  return std::optional<size_t>();
}

std::optional<absl::string_view> HttpMessageHead::Find(
    absl::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (absl::EqualsIgnoreCase(header_name, name)) {
      return absl::string_view(value);
    }
  }
  return std::nullopt;
}

absl::StatusOr<HttpResponse> ParseHttpResponse(absl::string_view bytes) {
  return ParseMessage<HttpResponse>(bytes, HttpMessage::kResponse,
                                    ParseStatusLine);
}

absl::StatusOr<HttpRequest> ParseHttpRequest(absl::string_view bytes) {
  return ParseMessage<HttpRequest>(bytes, HttpMessage::kRequest,
                                   ParseRequestLine);
}

absl::Status IsSstpDuplexPost(const HttpRequest& request) {
  // MS-SSTP 4.1: "validates the method to be SSTP_DUPLEX_POST and the HTTP
  // version to be 1.1"; 3.2.4.1 lists the headers the client sends.
  if (request.method != "SSTP_DUPLEX_POST") {
    return absl::InvalidArgumentError(
        absl::StrCat("SSTP request method ", Quote(request.method),
                     " is not SSTP_DUPLEX_POST"));
  }
  if (!absl::EqualsIgnoreCase(request.target, kSstpUri)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SSTP request target ", Quote(request.target), " is not ", kSstpUri));
  }
  if (request.major != 1 || request.minor != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "SSTP request is HTTP/%d.%d, not HTTP/1.1", request.major,
        request.minor));
  }
  // RFC 9112 3.2: exactly one Host; 6.3: one Content-Length, and none
  // overridden by Transfer-Encoding.
  for (absl::string_view name :
       {absl::string_view("Host"), absl::string_view("Content-Length"),
        absl::string_view("SSTPCORRELATIONID")}) {
    const size_t count = CountField(request.headers, name);
    if (count == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("SSTP request has no ", name, " header"));
    }
    if (count > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("SSTP request has ", count, " ", name, " headers"));
    }
    if (request.Find(name)->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SSTP request ", name, " header is empty"));
    }
  }
  const absl::string_view length = *request.Find("Content-Length");
  if (length != kSstpContentLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("SSTP request Content-Length ", Quote(length), " is not ",
                     kSstpContentLength));
  }
  if (request.Find("Transfer-Encoding")) {
    return absl::InvalidArgumentError(
        "SSTP request has a Transfer-Encoding header (it would override "
        "Content-Length)");
  }
  return absl::OkStatus();
}

std::string BuildDuplexPostResponse(std::optional<absl::Time> date) {
  std::string response = absl::StrCat("HTTP/1.1 200 OK\r\n",
                                      "Content-Length: ", kSstpContentLength,
                                      "\r\n",
                                      "Server: Microsoft-HTTPAPI/2.0\r\n");
  if (date) absl::StrAppend(&response, "Date: ", ImfFixdate(*date), "\r\n");
  response.append("\r\n");
  return response;
}

}  // namespace sstp::proto
