#include "daemon/ppp/lcp.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "base/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::HasSubstr;

class LcpNegotiatorTest : public ::testing::Test {
 protected:
  void Make(std::vector<AuthMethod> methods = {AuthMethod::kMsChapV2,
                                               AuthMethod::kEapMsChapV2},
            uint16_t mru = 1400) {
    lcp_ = std::make_unique<LcpNegotiator>(
        LcpSettings{mru, std::move(methods)}, random_, logger_);
  }
  RequestVerdict Evaluate(absl::string_view hex) {
    absl::StatusOr<RequestVerdict> verdict =
        lcp_->EvaluateRequest(HexOrDie(hex));
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? *verdict : RequestVerdict{};
  }
  std::string Request() { return ToHex(lcp_->BuildRequest().value()); }

  FixedRandom random_{HexOrDie("11223344 55667788 99aabbcc")};
  Logger logger_{"test"};
  std::unique_ptr<LcpNegotiator> lcp_;
};

TEST_F(LcpNegotiatorTest, RequestCarriesMruAndMagicOnly) {
  Make();
  EXPECT_EQ(Request(), "01040578050611223344");
  EXPECT_EQ(lcp_->magic_number(), 0x11223344u);
  // Defaults before any Ack (RFC 1661 6.1).
  EXPECT_EQ(lcp_->local_mru(), kDefaultMru);
  EXPECT_EQ(lcp_->peer_mru(), kDefaultMru);
  EXPECT_EQ(lcp_->auth_method(), std::nullopt);
}

TEST_F(LcpNegotiatorTest, RejectedOptionsAreDropped) {
  Make();
  ASSERT_TRUE(lcp_->RequestRejected(HexOrDie("0506 11223344")).ok());
  EXPECT_EQ(Request(), "01040578");
  ASSERT_TRUE(lcp_->RequestRejected(HexOrDie("0104 0578")).ok());
  EXPECT_EQ(Request(), "");
  lcp_->RequestAcked({});
  EXPECT_EQ(lcp_->local_mru(), kDefaultMru);
  EXPECT_EQ(lcp_->local_magic(), std::nullopt);
}

TEST_F(LcpNegotiatorTest, NakAdjustsMruWithinRangeAndMagic) {
  Make();
  ASSERT_TRUE(lcp_->RequestNaked(HexOrDie("0104 0240")).ok());  // 576
  EXPECT_EQ(Request(), "01040240050611223344");
  ASSERT_TRUE(lcp_->RequestNaked(HexOrDie("0104 0ffc")).ok());  // 4092
  EXPECT_EQ(Request(), "01040240050611223344");
  ASSERT_TRUE(lcp_->RequestNaked(HexOrDie("0104 023f")).ok());  // 575
  EXPECT_EQ(Request(), "01040240050611223344");
  // A Nak'd Magic-Number is replaced; suggestions we did not ask for
  // (ACFC) are ignored.
  ASSERT_TRUE(lcp_->RequestNaked(HexOrDie("0506 11223344 0802")).ok());
  EXPECT_EQ(Request(), "01040240050655667788");
  // A malformed option makes the Nak invalid.
  EXPECT_FALSE(lcp_->RequestNaked(HexOrDie("0103 05")).ok());
  lcp_->RequestAcked(HexOrDie("0104 0240 0506 55667788"));
  EXPECT_EQ(lcp_->local_mru(), 576);
  EXPECT_EQ(lcp_->local_magic(), 0x55667788u);
}

TEST_F(LcpNegotiatorTest, AcceptsWhatSstpCanCarry) {
  Make();
  // ACCM, PFC, ACFC and a big MRU are fine.
  const RequestVerdict verdict =
      Evaluate("0104 0ffb 0206 00000000 0305 c22381 0506 cafebabe 0702 0802");
  EXPECT_EQ(verdict.code, Code::kConfigureAck);
  EXPECT_EQ(lcp_->peer_mru(), 4091);
  EXPECT_EQ(lcp_->peer_magic(), 0xcafebabeu);
  EXPECT_EQ(lcp_->auth_method(), AuthMethod::kMsChapV2);
  EXPECT_THAT(lcp_->auth_reason(), HasSubstr("the profile allows it"));
  // A later request without them resets what it omits.
  EXPECT_EQ(Evaluate("").code, Code::kConfigureAck);
  EXPECT_EQ(lcp_->peer_mru(), kDefaultMru);
  EXPECT_EQ(lcp_->peer_magic(), std::nullopt);
  EXPECT_EQ(lcp_->auth_method(), std::nullopt);
}

TEST_F(LcpNegotiatorTest, RejectsWhatIsNotImplementedInOneReject) {
  Make();
  // Quality-Protocol, Callback, MRRU, Endpoint-Discriminator, an unknown
  // type and a malformed MRU; the forbidden PAP would be Nak'd, but Reject
  // takes precedence (RFC 1661 5.4).
  const RequestVerdict verdict = Evaluate(
      "0103 05 0304 c023 0408 c025 000003e8 0d03 06 1104 064e 1303 00 2a02");
  EXPECT_EQ(verdict.code, Code::kConfigureReject);
  EXPECT_EQ(ToHex(verdict.options),
            ToHex(HexOrDie("0103 05 0408 c025 000003e8 0d03 06 1104 064e "
                           "1303 00 2a02")));
  EXPECT_THAT(verdict.reason, HasSubstr("Callback (not implemented)"));
  EXPECT_THAT(verdict.reason, HasSubstr("type 42 (unknown)"));
  EXPECT_EQ(lcp_->auth_method(), std::nullopt);  // nothing committed
}

TEST_F(LcpNegotiatorTest, NaksSmallMruAndZeroMagic) {
  Make();
  const RequestVerdict verdict = Evaluate("0104 0040 0506 00000000");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  ASSERT_EQ(verdict.options.size(), 10u);
  EXPECT_EQ(ToHex(absl::MakeSpan(verdict.options).subspan(0, 4)), "01040080");
  EXPECT_EQ(verdict.options[4], 5);
  EXPECT_NE(ToHex(absl::MakeSpan(verdict.options).subspan(6)), "00000000");
  EXPECT_THAT(verdict.reason, HasSubstr("MRU 64 is below 128"));
  EXPECT_THAT(verdict.reason, HasSubstr("Magic-Number 0 is not valid"));
}

TEST_F(LcpNegotiatorTest, EqualMagicNumbersSuggestALoop) {
  Make();
  const RequestVerdict verdict = Evaluate("0506 11223344");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  EXPECT_THAT(verdict.reason, HasSubstr("may be looped back"));
  // The suggestion differs from ours, and ours changes too.
  EXPECT_NE(ToHex(verdict.options), "050611223344");
  EXPECT_NE(lcp_->magic_number(), 0x11223344u);
}

TEST_F(LcpNegotiatorTest, EapPolicyWhenMsChapV2IsAllowed) {
  Make();
  RequestVerdict verdict = Evaluate("0304 c227");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  EXPECT_EQ(ToHex(verdict.options), "0305c22381");
  EXPECT_THAT(verdict.reason, HasSubstr("suggesting MS-CHAPv2 first"));
  // The server insists: Ack.
  verdict = Evaluate("0304 c227");
  EXPECT_EQ(verdict.code, Code::kConfigureAck);
  EXPECT_EQ(lcp_->auth_method(), AuthMethod::kEapMsChapV2);
  EXPECT_THAT(lcp_->auth_reason(), HasSubstr("insists on EAP"));
}

TEST_F(LcpNegotiatorTest, EapNakOnlyCountsWhenTheNakIsSent) {
  Make();
  // EAP together with Callback: the Reject goes out, not the Nak, so the
  // next EAP request is not "insisting" yet.
  EXPECT_EQ(Evaluate("0304 c227 0d03 06").code, Code::kConfigureReject);
  EXPECT_EQ(Evaluate("0304 c227").code, Code::kConfigureNak);
  EXPECT_EQ(Evaluate("0304 c227").code, Code::kConfigureAck);
}

TEST_F(LcpNegotiatorTest, EapOnlyProfileAcksEap) {
  Make({AuthMethod::kEapMsChapV2});
  EXPECT_EQ(Evaluate("0304 c227").code, Code::kConfigureAck);
  EXPECT_THAT(lcp_->auth_reason(), HasSubstr("allows only EAP methods"));
  // Anything else is Nak'd with EAP.
  const RequestVerdict verdict = Evaluate("0305 c22381");
  EXPECT_EQ(verdict.code, Code::kConfigureNak);
  EXPECT_EQ(ToHex(verdict.options), "0304c227");
}

TEST_F(LcpNegotiatorTest, NakSuggestionsFollowTheProfile) {
  Make({AuthMethod::kEapMsChapV2, AuthMethod::kMsChapV2, AuthMethod::kPap});
  // EAP-MSCHAPv2 is skipped while plain MS-CHAPv2 is allowed.
  RequestVerdict verdict = Evaluate("0305 c22305");
  EXPECT_EQ(ToHex(verdict.options), "0305c22381");
  EXPECT_THAT(verdict.reason,
              HasSubstr("the server asks for CHAP-MD5, which the profile does "
                        "not allow (allowed: EAP-MSCHAPv2, MS-CHAPv2, PAP)"));
  Make({AuthMethod::kChapMd5, AuthMethod::kPap});
  verdict = Evaluate("0305 c22380");
  EXPECT_EQ(ToHex(verdict.options), "0305c22305");
  EXPECT_THAT(verdict.reason,
              HasSubstr("CHAP algorithm 0x80 (MS-CHAPv1), which this client "
                        "does not implement"));
  verdict = Evaluate("0304 c481");
  EXPECT_THAT(verdict.reason, HasSubstr("authentication protocol 0xc481"));
  EXPECT_EQ(Evaluate("0304 c023").code, Code::kConfigureAck);
  EXPECT_EQ(lcp_->auth_method(), AuthMethod::kPap);
}

TEST_F(LcpNegotiatorTest, UnparsableOptionListIsAnError) {
  Make();
  EXPECT_FALSE(lcp_->EvaluateRequest(HexOrDie("0104 05")).ok());
  EXPECT_FALSE(lcp_->RequestRejected(HexOrDie("01")).ok());
}

}  // namespace
}  // namespace sstp::ppp
