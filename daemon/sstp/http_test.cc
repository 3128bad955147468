#include "daemon/sstp/http.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::ElementsAre;

constexpr std::array<uint8_t, 16> kGuidBytes = {0xBA, 0x19, 0x59, 0x80, 0xCD, 0x49, 0x45, 0x8b,
                                                0x9E, 0x23, 0xC8, 0x4E, 0xE0, 0xAD, 0xCD, 0x75};

TEST(GuidTest, FormatGuidIsUpperCaseCanonical) {
  EXPECT_EQ(FormatGuid(kGuidBytes), "{BA195980-CD49-458B-9E23-C84EE0ADCD75}");
}

TEST(GuidTest, NewCorrelationIdIsVersion4) {
  FixedRandom random(std::vector<uint8_t>(16, 0xFF));
  // RFC 4122 4.4: version nibble 4, variant bits 10.
  EXPECT_EQ(NewCorrelationId(random), "{FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF}");
  FixedRandom zeros(std::vector<uint8_t>(16, 0x00));
  EXPECT_EQ(NewCorrelationId(zeros), "{00000000-0000-4000-8000-000000000000}");
}

TEST(DuplexPostTest, ExactBytes) {
  // MS-SSTP 3.2.4.1, 4.1.
  absl::StatusOr<std::string> request =
      BuildDuplexPostRequest("vpn.example.com", "{BA195980-CD49-458B-9E23-C84EE0ADCD75}");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(*request,
            "SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n"
            "Host: vpn.example.com\r\n"
            "Content-Length: 18446744073709551615\r\n"
            "SSTPCORRELATIONID: {BA195980-CD49-458B-9E23-C84EE0ADCD75}\r\n"
            "\r\n");
}

TEST(DuplexPostTest, HostForms) {
  const std::string guid = FormatGuid(kGuidBytes);
  EXPECT_THAT(*BuildDuplexPostRequest("2001:db8::1", guid), HasSubstr("\r\nHost: [2001:db8::1]\r\n"));
  EXPECT_THAT(*BuildDuplexPostRequest("[2001:db8::1]", guid),
              HasSubstr("\r\nHost: [2001:db8::1]\r\n"));
  EXPECT_THAT(*BuildDuplexPostRequest("192.0.2.7", guid), HasSubstr("\r\nHost: 192.0.2.7\r\n"));
  EXPECT_THAT(*BuildDuplexPostRequest("vpn.example.com", guid, 8443),
              HasSubstr("\r\nHost: vpn.example.com:8443\r\n"));
  EXPECT_THAT(*BuildDuplexPostRequest("::1", guid, 4443), HasSubstr("\r\nHost: [::1]:4443\r\n"));
}

TEST(DuplexPostTest, RefusesBadInput) {
  const std::string guid = FormatGuid(kGuidBytes);
  EXPECT_EQ(BuildDuplexPostRequest("", guid).status().message(), "HTTP host is empty");
  EXPECT_EQ(BuildDuplexPostRequest("vpn\r\nX-Injected", guid).status().message(),
            "HTTP host \"vpn\\r\\nX-Injected\" holds \"\\r\", not allowed in a host name");
  EXPECT_EQ(BuildDuplexPostRequest("vpn example", guid).status().message(),
            "HTTP host \"vpn example\" holds \" \", not allowed in a host name");
  EXPECT_EQ(BuildDuplexPostRequest("fe80::1%eth0", guid).status().message(),
            "HTTP host \"fe80::1%eth0\" holds \"%\", not allowed in an IPv6 literal");
  EXPECT_EQ(BuildDuplexPostRequest("[vpn.example.com]", guid).status().message(),
            "HTTP host \"[vpn.example.com]\" in brackets is not IPv6");
  EXPECT_EQ(BuildDuplexPostRequest("vpn", guid, 0).status().message(), "HTTP port 0");
  EXPECT_EQ(BuildDuplexPostRequest("vpn", "BA195980-CD49-458B-9E23-C84EE0ADCD75").status().message(),
            "SSTPCORRELATIONID \"BA195980-CD49-458B-9E23-C84EE0ADCD75\" is not a {GUID} string");
  EXPECT_FALSE(BuildDuplexPostRequest("vpn", "{BA195980-CD49-458B-9E23-C84EE0ADCD7}").ok());
  EXPECT_FALSE(BuildDuplexPostRequest("vpn", "{BA195980-CD49-458B-9E23-C84EE0ADCD7\n}").ok());
}

TEST(ProxyConnectTest, ExactBytesWithoutCredentials) {
  // MS-SSTP 4.5.
  absl::StatusOr<SecretString> request =
      BuildProxyConnectRequest("vpn.example.com", 443, std::nullopt);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->reveal(),
            "CONNECT vpn.example.com:443 HTTP/1.1\r\n"
            "Host: vpn.example.com:443\r\n"
            "SSTPVERSION: 1.0\r\n"
            "\r\n");
}

TEST(ProxyConnectTest, BasicAuthentication) {
  // RFC 7617 2: "Aladdin" / "open sesame" -> QWxhZGRpbjpvcGVuIHNlc2FtZQ==.
  ProxyCredentials credentials{.user = "Aladdin", .password = SecretString("open sesame")};
  absl::StatusOr<SecretString> request = BuildProxyConnectRequest("2001:db8::5", 4443, credentials);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->reveal(),
            "CONNECT [2001:db8::5]:4443 HTTP/1.1\r\n"
            "Host: [2001:db8::5]:4443\r\n"
            "SSTPVERSION: 1.0\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
            "\r\n");
}

TEST(ProxyConnectTest, RefusesBadInput) {
  ProxyCredentials credentials{.user = "a:b", .password = SecretString("x")};
  EXPECT_EQ(BuildProxyConnectRequest("vpn", 443, credentials).status().message(),
            "HTTP proxy user name must not contain ':' (RFC 7617)");
  EXPECT_EQ(BuildProxyConnectRequest("vpn", 0, std::nullopt).status().message(), "HTTP port 0");
  EXPECT_FALSE(BuildProxyConnectRequest("a/b", 443, std::nullopt).ok());
}

// --- FindHeaderEnd ------------------------------------------------------------

TEST(FindHeaderEndTest, CompleteAndIncomplete) {
  const std::string reply = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
  EXPECT_EQ(*FindHeaderEnd(reply), reply.size());
  // With SSTP bytes after the block.
  EXPECT_EQ(*FindHeaderEnd(reply + "\x10\x01"), reply.size());
  for (size_t n = 0; n < reply.size(); ++n) {
    absl::StatusOr<std::optional<size_t>> end = FindHeaderEnd(absl::string_view(reply).substr(0, n));
    ASSERT_TRUE(end.ok());
    EXPECT_EQ(*end, std::nullopt) << n;
  }
}

TEST(FindHeaderEndTest, BareLineFeeds) {
  EXPECT_EQ(*FindHeaderEnd("HTTP/1.1 200 OK\nA: b\n\nxyz"), 22u);
  EXPECT_EQ(*FindHeaderEnd("HTTP/1.1 200 OK\n\r\n"), 18u);
  // CR CR is not an empty line.
  EXPECT_EQ(*FindHeaderEnd("HTTP/1.1 200 OK\r\r\n"), std::nullopt);
}

TEST(FindHeaderEndTest, SizeLimit) {
  std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxHttpHeaderSize, 'a');
  absl::StatusOr<std::optional<size_t>> end = FindHeaderEnd(big);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.status().message(), "HTTP response header exceeds 8192 bytes");
  // Exactly 8192 bytes including the empty line is fine; one more is not.
  std::string exact = "HTTP/1.1 200 OK\r\nX: ";
  exact += std::string(kMaxHttpHeaderSize - exact.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), kMaxHttpHeaderSize);
  EXPECT_EQ(*FindHeaderEnd(exact), kMaxHttpHeaderSize);
  std::string over = "HTTP/1.1 200 OK\r\nX: a" + exact.substr(20);
  ASSERT_EQ(over.size(), kMaxHttpHeaderSize + 1);
  EXPECT_FALSE(FindHeaderEnd(over).ok());
}

// --- ParseHttpResponse ----------------------------------------------------------

TEST(ParseHttpResponseTest, MicrosoftHttpApiReply) {
  // MS-SSTP 4.1.
  const std::string reply =
      "HTTP/1.1 200 OK\r\n"
      "Content-Length: 18446744073709551615\r\n"
      "Server: Microsoft-HTTPAPI/2.0\r\n"
      "Date: Thu, 09 Nov 2006 00:51:09 GMT\r\n"
      "\r\n";
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(reply);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->major, 1);
  EXPECT_EQ(response->minor, 1);
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->reason, "OK");
  EXPECT_THAT(response->headers,
              ElementsAre(Pair("Content-Length", "18446744073709551615"),
                          Pair("Server", "Microsoft-HTTPAPI/2.0"),
                          Pair("Date", "Thu, 09 Nov 2006 00:51:09 GMT")));
  EXPECT_EQ(response->Find("content-length"), "18446744073709551615");
  EXPECT_EQ(response->Find("SERVER"), "Microsoft-HTTPAPI/2.0");
  EXPECT_EQ(response->Find("Connection"), std::nullopt);
}

TEST(ParseHttpResponseTest, ProxyReplyWithLowercaseHeaders) {
  // MS-SSTP 4.5, as an HTTP/1.0 proxy might send it.
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(
      "HTTP/1.0 200 Connection Established\r\n"
      "proxy-connection: Keep-Alive\r\n"
      "connection:Keep-Alive  \r\n"
      "\r\n");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->minor, 0);
  EXPECT_EQ(response->reason, "Connection Established");
  EXPECT_EQ(response->Find("Proxy-Connection"), "Keep-Alive");
  EXPECT_EQ(response->Find("CONNECTION"), "Keep-Alive");
}

TEST(ParseHttpResponseTest, NonOkStatus) {
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(
      "HTTP/1.1 407 Proxy Authentication Required\r\n"
      "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 407);
  EXPECT_EQ(response->Find("proxy-authenticate"), "Basic realm=\"corp\"");
}

TEST(ParseHttpResponseTest, Leniencies) {
  // Empty reason; bare LF (RFC 9112 2.2); the first header wins in Find();
  // bytes after the block are ignored.
  absl::StatusOr<HttpResponse> response =
      ParseHttpResponse("HTTP/1.1 503 \nX-A: 1\nx-a: 2\n\n\x10\x01");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 503);
  EXPECT_EQ(response->reason, "");
  EXPECT_EQ(response->Find("x-a"), "1");
  EXPECT_EQ(response->headers.size(), 2u);
}

TEST(ParseHttpResponseTest, MalformedStatusLines) {
  struct Case {
    std::string reply;
    std::string message;
  };
  const Case cases[] = {
      {"HTTP/2 200 OK\r\n\r\n",
       "HTTP status line malformed (expected HTTP/x.y): \"HTTP/2 200 OK\""},
      {"HTTP/2.0 200 OK\r\n\r\n", "HTTP version 2.0 not supported, expected 1.x"},
      {"http/1.1 200 OK\r\n\r\n",
       "HTTP status line malformed (expected HTTP/x.y): \"http/1.1 200 OK\""},
      {"HTTP/1.1 20 OK\r\n\r\n",
       "HTTP status line malformed (expected SP 3DIGIT SP): \"HTTP/1.1 20 OK\""},
      {"HTTP/1.1 200OK\r\n\r\n",
       "HTTP status line malformed (expected SP 3DIGIT SP): \"HTTP/1.1 200OK\""},
      {"HTTP/1.1 200\r\n\r\n",
       "HTTP status line malformed (expected SP 3DIGIT SP): \"HTTP/1.1 200\""},
      {"HTTP/1.1  200 OK\r\n\r\n",
       "HTTP status line malformed (expected SP 3DIGIT SP): \"HTTP/1.1  200 OK\""},
      {"HTTP/1.1 200 O\x01K\r\n\r\n",
       "HTTP status line malformed (control character in reason): \"HTTP/1.1 200 O\\001K\""},
      {"\r\n\r\n", "HTTP status line malformed (expected HTTP/x.y): \"\""},
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n",
       "HTTP status line malformed (expected HTTP/x.y): \"SSH-2.0-OpenSSH_9.2\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<HttpResponse> response = ParseHttpResponse(c.reply);
    ASSERT_FALSE(response.ok()) << c.reply;
    EXPECT_EQ(response.status().message(), c.message);
  }
}

TEST(ParseHttpResponseTest, MalformedHeaders) {
  struct Case {
    std::string header;
    std::string message;
  };
  const Case cases[] = {
      {" folded\r\n", "HTTP obs-fold continuation line rejected: \" folded\""},
      {"\tfolded\r\n", "HTTP obs-fold continuation line rejected: \"\\tfolded\""},
      {"Server : x\r\n", "HTTP header has whitespace before ':': \"Server : x\""},
      {"NoColon\r\n", "HTTP header line without ':': \"NoColon\""},
      {": x\r\n", "HTTP header line with an empty name: \": x\""},
      {"Bad(Name): x\r\n", "HTTP header name has a character outside token: \"Bad(Name): x\""},
      {"X: a\x7F\r\n", "HTTP header \"X\" value has a control character"},
      {"X: a\rb\r\n", "HTTP line 2 holds a bare CR: \"X: a\\rb\""},
  };
  for (const Case& c : cases) {
    const std::string reply = "HTTP/1.1 200 OK\r\n" + c.header + "\r\n";
    absl::StatusOr<HttpResponse> response = ParseHttpResponse(reply);
    ASSERT_FALSE(response.ok()) << c.header;
    EXPECT_EQ(response.status().message(), c.message);
  }
}

TEST(ParseHttpResponseTest, ErrorsQuoteAtMost64BytesOfPeerData) {
  const std::string junk(5000, 'J');
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(junk + "\r\n\r\n");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(),
            "HTTP status line malformed (expected HTTP/x.y): \"" + std::string(64, 'J') +
                "\"... (5000 bytes)");
  response = ParseHttpResponse("HTTP/1.1 200 OK\r\n" + junk + "\r\n\r\n");
  ASSERT_FALSE(response.ok());
  EXPECT_LT(response.status().message().size(), 140u);
}

TEST(ParseHttpResponseTest, IncompleteOrOversized) {
  absl::StatusOr<HttpResponse> response = ParseHttpResponse("HTTP/1.1 200 OK\r\n");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(),
            "HTTP response header incomplete: no empty line in 17 bytes");
  response = ParseHttpResponse("HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'a') + "\r\n\r\n");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().message(), "HTTP response header exceeds 8192 bytes");
}

TEST(ParseHttpResponseTest, ByteSpanOverload) {
  const std::string reply = "HTTP/1.1 200 OK\r\n\r\n";
  const std::vector<uint8_t> bytes(reply.begin(), reply.end());
  EXPECT_EQ(*FindHeaderEnd(absl::MakeConstSpan(bytes)), bytes.size());
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(absl::MakeConstSpan(bytes));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status_code, 200);
}


// --- The server's side: ParseHttpRequest, IsSstpDuplexPost, BuildDuplexPostResponse.

// A request as sstp-client style clients send it (MS-SSTP 3.2.4.1, 4.1).
constexpr absl::string_view kDuplexPost =
    "SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1\r\n"
    "Host: vpn.example.com\r\n"
    "Content-Length: 18446744073709551615\r\n"
    "SSTPCORRELATIONID: {BA195980-CD49-458B-9E23-C84EE0ADCD75}\r\n"
    "\r\n";

TEST(ParseHttpRequestTest, DuplexPost) {
  absl::StatusOr<HttpRequest> request = ParseHttpRequest(kDuplexPost);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "SSTP_DUPLEX_POST");
  EXPECT_EQ(request->target, "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/");
  EXPECT_EQ(request->major, 1);
  EXPECT_EQ(request->minor, 1);
  EXPECT_THAT(request->headers,
              ElementsAre(Pair("Host", "vpn.example.com"),
                          Pair("Content-Length", "18446744073709551615"),
                          Pair("SSTPCORRELATIONID", "{BA195980-CD49-458B-9E23-C84EE0ADCD75}")));
  EXPECT_EQ(request->Find("sstpcorrelationid"), "{BA195980-CD49-458B-9E23-C84EE0ADCD75}");
  EXPECT_EQ(request->Find("HOST"), "vpn.example.com");
  EXPECT_EQ(request->Find("Cookie"), std::nullopt);
  EXPECT_TRUE(IsSstpDuplexPost(*request).ok()) << IsSstpDuplexPost(*request);
}

TEST(ParseHttpRequestTest, WhatOurClientBuildsIsADuplexPost) {
  for (uint16_t port : {uint16_t{443}, uint16_t{8443}}) {
    absl::StatusOr<std::string> built =
        BuildDuplexPostRequest("2001:db8::1", FormatGuid(kGuidBytes), port);
    ASSERT_TRUE(built.ok()) << built.status();
    absl::StatusOr<HttpRequest> request = ParseHttpRequest(*built);
    ASSERT_TRUE(request.ok()) << request.status();
    EXPECT_EQ(request->Find("Host"), port == 443 ? "[2001:db8::1]" : "[2001:db8::1]:8443");
    EXPECT_TRUE(IsSstpDuplexPost(*request).ok()) << IsSstpDuplexPost(*request);
  }
}

TEST(ParseHttpRequestTest, LeniencyAndCaseInsensitivity) {
  // Bare LF (RFC 9112 2.2), lower-case header names and GUID, OWS around
  // values, the SSTP bytes that follow the block.
  absl::StatusOr<HttpRequest> request = ParseHttpRequest(
      "SSTP_DUPLEX_POST /sra_{ba195980-cd49-458b-9e23-c84ee0adcd75}/ HTTP/1.1\n"
      "host:vpn.example.com\n"
      "content-length: 18446744073709551615 \n"
      "sstpcorrelationid:\t{0}\n"
      "\n\x10\x01\x00\x0e");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->Find("Content-Length"), "18446744073709551615");
  EXPECT_EQ(request->Find("SSTPCORRELATIONID"), "{0}");
  EXPECT_TRUE(IsSstpDuplexPost(*request).ok()) << IsSstpDuplexPost(*request);
}

TEST(ParseHttpRequestTest, MalformedRequestLines) {
  struct Case {
    std::string line;
    std::string message;
  };
  const Case cases[] = {
      {"SSTP_DUPLEX_POST /sra_/",
       "HTTP request line malformed (expected method SP target SP HTTP/x.y): "
       "\"SSTP_DUPLEX_POST /sra_/\""},
      {"SSTP_DUPLEX_POST", "HTTP request line malformed (expected method SP target SP HTTP/x.y): "
                           "\"SSTP_DUPLEX_POST\""},
      {"", "HTTP request line malformed (expected method SP target SP HTTP/x.y): \"\""},
      {" GET / HTTP/1.1",
       "HTTP request line malformed (method is not a token): \" GET / HTTP/1.1\""},
      {"GE(T / HTTP/1.1",
       "HTTP request line malformed (method is not a token): \"GE(T / HTTP/1.1\""},
      {"GET  / HTTP/1.1",
       "HTTP request line malformed (target is empty or not visible ASCII): \"GET  / HTTP/1.1\""},
      {"GET /a\x7f HTTP/1.1",
       "HTTP request line malformed (target is empty or not visible ASCII): \"GET /a\\177 "
       "HTTP/1.1\""},
      {"GET / HTTP/1.1 x",
       "HTTP request line malformed (expected HTTP/x.y after the target): \"GET / HTTP/1.1 x\""},
      {"GET / /1.1 HTTP/1.1",
       "HTTP request line malformed (expected HTTP/x.y after the target): \"GET / /1.1 "
       "HTTP/1.1\""},
      {"GET / http/1.1",
       "HTTP request line malformed (expected HTTP/x.y after the target): \"GET / http/1.1\""},
      {"GET / HTTP/1", "HTTP request line malformed (expected HTTP/x.y after the target): \"GET / "
                       "HTTP/1\""},
      {"PRI * HTTP/2.0", "HTTP version 2.0 not supported, expected 1.x"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<HttpRequest> request = ParseHttpRequest(c.line + "\r\n\r\n");
    ASSERT_FALSE(request.ok()) << c.line;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(request.status().message(), c.message);
  }
}

TEST(ParseHttpRequestTest, HeaderRulesAreTheResponseOnes) {
  const std::string line = "SSTP_DUPLEX_POST / HTTP/1.1\r\n";
  EXPECT_EQ(ParseHttpRequest(line + "Host : x\r\n\r\n").status().message(),
            "HTTP header has whitespace before ':': \"Host : x\"");
  EXPECT_EQ(ParseHttpRequest(line + " folded\r\n\r\n").status().message(),
            "HTTP obs-fold continuation line rejected: \" folded\"");
  EXPECT_EQ(ParseHttpRequest(line + "Host: a\rb\r\n\r\n").status().message(),
            "HTTP line 2 holds a bare CR: \"Host: a\\rb\"");
  EXPECT_EQ(ParseHttpRequest("GET /\r HTTP/1.1\r\n\r\n").status().message(),
            "HTTP line 1 holds a bare CR: \"GET /\\r HTTP/1.1\"");
}

TEST(ParseHttpRequestTest, EveryTruncationIsIncomplete) {
  for (size_t n = 0; n < kDuplexPost.size(); ++n) {
    const absl::string_view prefix = kDuplexPost.substr(0, n);
    absl::StatusOr<std::optional<size_t>> end = FindHeaderEnd(prefix, HttpMessage::kRequest);
    ASSERT_TRUE(end.ok()) << n;
    EXPECT_EQ(*end, std::nullopt) << n;
    absl::StatusOr<HttpRequest> request = ParseHttpRequest(prefix);
    ASSERT_FALSE(request.ok()) << n;
    EXPECT_EQ(request.status().message(),
              absl::StrCat("HTTP request header incomplete: no empty line in ", n, " bytes"));
  }
  EXPECT_EQ(*FindHeaderEnd(kDuplexPost, HttpMessage::kRequest), kDuplexPost.size());
}

TEST(ParseHttpRequestTest, Oversized) {
  const std::string big = "SSTP_DUPLEX_POST / HTTP/1.1\r\nX: " + std::string(9000, 'a');
  EXPECT_EQ(FindHeaderEnd(big, HttpMessage::kRequest).status().message(),
            "HTTP request header exceeds 8192 bytes");
  EXPECT_EQ(ParseHttpRequest(big + "\r\n\r\n").status().message(),
            "HTTP request header exceeds 8192 bytes");
}

TEST(ParseHttpRequestTest, ByteSpanOverload) {
  const std::vector<uint8_t> bytes(kDuplexPost.begin(), kDuplexPost.end());
  absl::StatusOr<HttpRequest> request = ParseHttpRequest(absl::MakeConstSpan(bytes));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "SSTP_DUPLEX_POST");
}

TEST(IsSstpDuplexPostTest, EachDeviationIsNamed) {
  struct Case {
    std::string from;  // Replaced in kDuplexPost ...
    std::string to;    // ... by this.
    std::string message;
  };
  const Case cases[] = {
      {"SSTP_DUPLEX_POST /", "POST /", "SSTP request method \"POST\" is not SSTP_DUPLEX_POST"},
      {"SSTP_DUPLEX_POST /", "sstp_duplex_post /",
       "SSTP request method \"sstp_duplex_post\" is not SSTP_DUPLEX_POST"},
      {"458b-9E23-C84EE0ADCD75}/ ", "458b-9E23-C84EE0ADCD75} ",
       "SSTP request target \"/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}\" is not "
       "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"},
      {"/sra_{BA195980", "/sra_{0A195980",
       "SSTP request target \"/sra_{0A195980-CD49-458b-9E23-C84EE0ADCD75}/\" is not "
       "/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"},
      {"HTTP/1.1", "HTTP/1.0", "SSTP request is HTTP/1.0, not HTTP/1.1"},
      {"Host: vpn.example.com\r\n", "", "SSTP request has no Host header"},
      {"Host: vpn.example.com\r\n", "Host: a\r\nhost: b\r\n", "SSTP request has 2 Host headers"},
      {"Host: vpn.example.com\r\n", "Host: \r\n", "SSTP request Host header is empty"},
      {"Content-Length: 18446744073709551615\r\n", "",
       "SSTP request has no Content-Length header"},
      {"Content-Length: 18446744073709551615\r\n",
       "Content-Length: 18446744073709551615\r\nContent-Length: 18446744073709551615\r\n",
       "SSTP request has 2 Content-Length headers"},
      {"18446744073709551615", "0",
       "SSTP request Content-Length \"0\" is not 18446744073709551615"},
      {"18446744073709551615", "18446744073709551616",
       "SSTP request Content-Length \"18446744073709551616\" is not 18446744073709551615"},
      {"SSTPCORRELATIONID: {BA195980-CD49-458B-9E23-C84EE0ADCD75}\r\n", "",
       "SSTP request has no SSTPCORRELATIONID header"},
      {"SSTPCORRELATIONID: {BA195980-CD49-458B-9E23-C84EE0ADCD75}", "SSTPCORRELATIONID:",
       "SSTP request SSTPCORRELATIONID header is empty"},
      {"\r\n\r\n", "\r\nTransfer-Encoding: chunked\r\n\r\n",
       "SSTP request has a Transfer-Encoding header (it would override Content-Length)"},
  };
  for (const Case& c : cases) {
    std::string text(kDuplexPost);
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    absl::StatusOr<HttpRequest> request = ParseHttpRequest(text);
    ASSERT_TRUE(request.ok()) << request.status();
    const absl::Status status = IsSstpDuplexPost(*request);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(status.message(), c.message);
  }
}

TEST(DuplexPostResponseTest, ExactBytes) {
  EXPECT_EQ(BuildDuplexPostResponse(),
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 18446744073709551615\r\n"
            "Server: Microsoft-HTTPAPI/2.0\r\n"
            "\r\n");
}

TEST(DuplexPostResponseTest, MsSstpExampleWithDate) {
  // MS-SSTP 4.1: the response of the example, Date included.
  const absl::Time date = absl::FromCivil(absl::CivilSecond(2006, 11, 9, 0, 51, 9),
                                          absl::UTCTimeZone());
  const std::string reply = BuildDuplexPostResponse(date);
  EXPECT_EQ(reply,
            "HTTP/1.1 200 OK\r\n"
            "Content-Length: 18446744073709551615\r\n"
            "Server: Microsoft-HTTPAPI/2.0\r\n"
            "Date: Thu, 09 Nov 2006 00:51:09 GMT\r\n"
            "\r\n");
  // What the client's parser makes of it.
  absl::StatusOr<HttpResponse> response = ParseHttpResponse(reply);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->Find("content-length"), kSstpContentLength);
  EXPECT_EQ(response->Find("date"), "Thu, 09 Nov 2006 00:51:09 GMT");
}

TEST(DuplexPostResponseTest, ImfFixdate) {
  // RFC 9110 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
  EXPECT_THAT(BuildDuplexPostResponse(absl::FromCivil(
                  absl::CivilSecond(1994, 11, 6, 8, 49, 37), absl::UTCTimeZone())),
              HasSubstr("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
  // Every weekday and month name.
  const std::string expected[] = {
      "Mon, 01 Jan 2024", "Tue, 06 Feb 2024", "Wed, 06 Mar 2024", "Sat, 06 Apr 2024",
      "Mon, 06 May 2024", "Thu, 06 Jun 2024", "Sat, 06 Jul 2024", "Tue, 06 Aug 2024",
      "Fri, 06 Sep 2024", "Sun, 06 Oct 2024", "Wed, 06 Nov 2024", "Fri, 06 Dec 2024"};
  for (int month = 1; month <= 12; ++month) {
    const absl::Time t = absl::FromCivil(
        absl::CivilSecond(2024, month, month == 1 ? 1 : 6, 23, 59, 59), absl::UTCTimeZone());
    EXPECT_THAT(BuildDuplexPostResponse(t),
                HasSubstr(absl::StrCat("\r\nDate: ", expected[month - 1], " 23:59:59 GMT\r\n")));
  }
}

}  // namespace
}  // namespace sstp::proto
