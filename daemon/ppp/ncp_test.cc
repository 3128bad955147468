#include "daemon/ppp/ncp.h"

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "base/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::HasSubstr;

RequestVerdict Evaluate(OptionNegotiator& negotiator, absl::string_view hex) {
  absl::StatusOr<RequestVerdict> verdict =
      negotiator.EvaluateRequest(HexOrDie(hex));
  EXPECT_TRUE(verdict.ok()) << verdict.status();
  return verdict.ok() ? *verdict : RequestVerdict{};
}

std::string Request(OptionNegotiator& negotiator) {
  return ToHex(negotiator.BuildRequest().value());
}

// --- IPCP -------------------------------------------------------------------

TEST(IpcpNegotiatorTest, RequestsAddressAndDnsAsZeros) {
  Logger logger("test");
  IpcpNegotiator with_dns(true, logger);
  EXPECT_EQ(Request(with_dns), "030600000000810600000000830600000000");
  IpcpNegotiator without_dns(false, logger);
  EXPECT_EQ(Request(without_dns), "030600000000");
}

TEST(IpcpNegotiatorTest, NakValuesAreTakenAndAcked) {
  Logger logger("test");
  IpcpNegotiator ipcp(true, logger);
  // RFC 1877 values and an NBNS suggestion we did not ask for (ignored).
  ASSERT_TRUE(ipcp.RequestNaked(HexOrDie("0306 0a000002 8106 01010101 "
                                          "8306 01000001 8206 02020202"))
                  .ok());
  EXPECT_EQ(Request(ipcp), "03060a000002810601010101830601000001");
  ipcp.RequestAcked(HexOrDie("0306 0a000002 8106 01010101 8306 01000001"));
  EXPECT_TRUE(ipcp.fatal().ok());
  const Ipv4Up up = ipcp.result();
  EXPECT_EQ(up.local, (Ipv4Address{10, 0, 0, 2}));
  EXPECT_EQ(up.dns1, (Ipv4Address{1, 1, 1, 1}));
  EXPECT_EQ(up.dns2, (Ipv4Address{1, 0, 0, 1}));
  EXPECT_EQ(up.peer, std::nullopt);
}

TEST(IpcpNegotiatorTest, RejectedDnsIsDroppedRejectedAddressIsFatal) {
  Logger logger("test");
  IpcpNegotiator ipcp(true, logger);
  ASSERT_TRUE(ipcp.RequestRejected(HexOrDie("8306 00000000")).ok());
  EXPECT_EQ(Request(ipcp), "030600000000810600000000");
  ASSERT_TRUE(ipcp.RequestRejected(HexOrDie("8106 00000000")).ok());
  EXPECT_EQ(Request(ipcp), "030600000000");
  EXPECT_TRUE(ipcp.fatal().ok());
  ASSERT_TRUE(ipcp.RequestRejected(HexOrDie("0306 00000000")).ok());
  EXPECT_EQ(ipcp.fatal().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ipcp.fatal().message(),
            "IPCP: the server rejected the IP-Address option: it will not "
            "assign us an address");
}

TEST(IpcpNegotiatorTest, AckOfZeroAddressIsFatal) {
  Logger logger("test");
  IpcpNegotiator ipcp(false, logger);
  ipcp.RequestAcked(HexOrDie("0306 00000000"));
  EXPECT_THAT(ipcp.fatal().message(),
              HasSubstr("acknowledged IP-Address 0.0.0.0"));
}

TEST(IpcpNegotiatorTest, ServerRequest) {
  Logger logger("test");
  IpcpNegotiator ipcp(true, logger);
  EXPECT_EQ(Evaluate(ipcp, "0306 0a000001").code, Code::kConfigureAck);
  EXPECT_EQ(ipcp.result().peer, (Ipv4Address{10, 0, 0, 1}));
  // An empty request: no peer address.
  EXPECT_EQ(Evaluate(ipcp, "").code, Code::kConfigureAck);
  EXPECT_EQ(ipcp.result().peer, std::nullopt);
  // RFC 1332 3.2 compression, RFC 1877 options (asking us), a malformed
  // IP-Address, an unknown type: one Reject.
  const RequestVerdict verdict = Evaluate(
      ipcp, "0206 002d 0f01 0305 0a0000 8206 00000000 9902 0306 0a000001");
  EXPECT_EQ(verdict.code, Code::kConfigureReject);
  EXPECT_EQ(ToHex(verdict.options),
            ToHex(HexOrDie("0206 002d 0f01 0305 0a0000 8206 00000000 9902")));
  EXPECT_THAT(verdict.reason,
              HasSubstr("IP-Compression-Protocol (not implemented)"));
  EXPECT_THAT(verdict.reason, HasSubstr("Primary-NBNS (we have none to give)"));
  EXPECT_EQ(ipcp.result().peer, std::nullopt);  // nothing committed
}

// --- IPv6CP -----------------------------------------------------------------

TEST(Ipv6cpNegotiatorTest, RandomNonZeroIdentifier) {
  Logger logger("test");
  // A degenerate random stream of zeros still yields a non-zero identifier.
  FixedRandom zeros(std::vector<uint8_t>(8, 0));
  Ipv6cpNegotiator ipv6cp(zeros, logger);
  const std::string request = Request(ipv6cp);
  ASSERT_EQ(request.size(), 20u);
  EXPECT_EQ(request.substr(0, 4), "010a");
  EXPECT_NE(request.substr(4), "0000000000000000");

  FixedRandom random(HexOrDie("0102030405060708"));
  Ipv6cpNegotiator other(random, logger);
  EXPECT_EQ(Request(other), "010a0102030405060708");
  other.RequestAcked(HexOrDie("010a 0102030405060708"));
  EXPECT_EQ(other.result().local,
            (InterfaceIdentifier{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Ipv6cpNegotiatorTest, NakAndReject) {
  Logger logger("test");
  FixedRandom random(HexOrDie("0102030405060708 1112131415161718"));
  Ipv6cpNegotiator ipv6cp(random, logger);
  Request(ipv6cp);
  // A suggestion is taken ...
  ASSERT_TRUE(ipv6cp.RequestNaked(HexOrDie("010a aaaaaaaaaaaaaaaa")).ok());
  EXPECT_EQ(Request(ipv6cp), "010aaaaaaaaaaaaaaaaa");
  // ... but a zero one means "choose another".
  ASSERT_TRUE(ipv6cp.RequestNaked(HexOrDie("010a 0000000000000000")).ok());
  EXPECT_EQ(Request(ipv6cp), "010a1112131415161718");
  // Rejected: ours stays, unnegotiated.
  ASSERT_TRUE(ipv6cp.RequestRejected(HexOrDie("010a 1112131415161718")).ok());
  EXPECT_EQ(Request(ipv6cp), "");
  ipv6cp.RequestAcked({});
  EXPECT_EQ(ipv6cp.result().local,
            (InterfaceIdentifier{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                 0x18}));
}

TEST(Ipv6cpNegotiatorTest, ServerIdentifierRfc5072Section41) {
  Logger logger("test");
  FixedRandom random(HexOrDie("0102030405060708 2122232425262728"));
  Ipv6cpNegotiator ipv6cp(random, logger);
  EXPECT_EQ(Request(ipv6cp), "010a0102030405060708");
  // Equal to ours: Nak with a different non-zero one.
  RequestVerdict verdict = Evaluate(ipv6cp, "010a 0102030405060708");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  EXPECT_EQ(ToHex(verdict.options), "010a2122232425262728");
  EXPECT_THAT(verdict.reason, HasSubstr("equals ours"));
  // Zero: Nak, suggesting one.
  verdict = Evaluate(ipv6cp, "010a 0000000000000000");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  EXPECT_THAT(verdict.reason, HasSubstr("asks us to choose"));
  // Compression: rejected.
  EXPECT_EQ(Evaluate(ipv6cp, "0204 004f").code, Code::kConfigureReject);
  // A distinct one: Acked.
  EXPECT_EQ(Evaluate(ipv6cp, "010a 0200000000000001").code,
            Code::kConfigureAck);
  EXPECT_EQ(ipv6cp.result().peer,
            (InterfaceIdentifier{2, 0, 0, 0, 0, 0, 0, 1}));
}

}  // namespace
}  // namespace sstp::ppp
