#include "daemon/sstp/http.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

absl::Status MalformedStatusLine(absl::string_view line,
                                 absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "HTTP status line malformed (", why, "): ", Quote(line)));
}

absl::Status ParseStatusLine(absl::string_view line, HttpResponse* response) {
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [reason-phrase]
  //             HTTP-version = "HTTP/" DIGIT "." DIGIT
  if (line.size() < 8 || !absl::StartsWith(line, "HTTP/") ||
      !IsDigit(line[5]) || line[6] != '.' || !IsDigit(line[7])) {
    return MalformedStatusLine(line, "expected HTTP/x.y");
  }
  response->major = line[5] - '0';
  response->minor = line[7] - '0';
  if (line.size() < 13 || line[8] != ' ' || !IsDigit(line[9]) ||
      !IsDigit(line[10]) || !IsDigit(line[11]) || line[12] != ' ') {
    return MalformedStatusLine(line, "expected SP 3DIGIT SP");
  }
  if (response->major != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("HTTP version %d.%d not supported, expected 1.x",
                        response->major, response->minor));
  }
  response->status_code =
      (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  absl::string_view reason = line.substr(13);
  for (char c : reason) {
    if (!IsFieldChar(c)) {
      return MalformedStatusLine(line, "control character in reason");
    }
  }
  response->reason = std::string(reason);
  return absl::OkStatus();
}

absl::Status ParseHeaderLine(absl::string_view line, HttpResponse* response) {
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
  response->headers.emplace_back(std::string(name), std::string(value));
  return absl::OkStatus();
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

absl::StatusOr<std::optional<size_t>> FindHeaderEnd(absl::string_view bytes) {
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
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response header exceeds %d bytes", kMaxHttpHeaderSize));
  }
  return std::optional<size_t>();
}

std::optional<absl::string_view> HttpResponse::Find(
    absl::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (absl::EqualsIgnoreCase(header_name, name)) {
      return absl::string_view(value);
    }
  }
  return std::nullopt;
}

absl::StatusOr<HttpResponse> ParseHttpResponse(absl::string_view bytes) {
  ASSIGN_OR_RETURN(const std::optional<size_t> end, FindHeaderEnd(bytes));
  if (!end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "HTTP response header incomplete: no empty line in %d bytes",
        bytes.size()));
  }
  absl::string_view block = bytes.substr(0, *end);
  HttpResponse response;
  bool status_line = true;
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
    if (status_line) {
      RETURN_IF_ERROR(ParseStatusLine(line, &response));
      status_line = false;
      continue;
    }
    if (line.empty()) break;  // The end of the block.
    RETURN_IF_ERROR(ParseHeaderLine(line, &response));
  }
  return response;
}

}  // namespace sstp::proto
