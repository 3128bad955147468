// ControlProtocol with a scripted negotiator: the packet rules of RFC 1661
// section 5 around the automaton (which fsm_test.cc covers cell by cell).
#include "daemon/ppp/control_protocol.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "base/hex.h"
#include "daemon/ppp/frame.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Requests "0104 0578"; answers the peer with `verdict`; counts calls.
class ScriptedNegotiator final : public OptionNegotiator {
 public:
  absl::StatusOr<std::vector<uint8_t>> BuildRequest() override {
    return request;
  }
  void RequestAcked(absl::Span<const uint8_t>) override { ++acks; }
  absl::Status RequestNaked(absl::Span<const uint8_t>) override {
    ++naks;
    return absl::OkStatus();
  }
  absl::Status RequestRejected(absl::Span<const uint8_t>) override {
    ++rejects;
    return absl::OkStatus();
  }
  absl::StatusOr<RequestVerdict> EvaluateRequest(
      absl::Span<const uint8_t>) override {
    ++evaluations;
    return verdict;
  }
  void Fatal(absl::Status status) { SetFatal(std::move(status)); }

  std::vector<uint8_t> request = HexOrDie("0104 0578");
  RequestVerdict verdict;
  int acks = 0, naks = 0, rejects = 0, evaluations = 0;
};

class ControlProtocolTest : public ::testing::Test, public LayerObserver {
 protected:
  ControlProtocolTest() {
    ControlProtocolParams params;
    params.protocol = kProtocolIpcp;
    params.name = "IPCP";
    params.timer = TimerId::kIpcpRestart;
    layer_ = std::make_unique<ControlProtocol>(params, negotiator_, *this,
                                               sink_, logger_);
  }

  void LayerUp(ControlProtocol&) override { log_.push_back("up"); }
  void LayerDown(ControlProtocol&) override { log_.push_back("down"); }
  void LayerFinished(ControlProtocol&, const absl::Status& why) override {
    log_.push_back(absl::StrCat("finished: ", why.message()));
  }
  void LayerGaveUp(ControlProtocol&, const absl::Status& why) override {
    log_.push_back(absl::StrCat("gave up: ", why.message()));
  }

  // The packets sent since the last call, as hex.
  std::vector<std::string> Sent() {
    std::vector<std::string> out;
    for (const ClientAction& action : sink_.Take()) {
      if (const auto* frame = std::get_if<SendFrame>(&action)) {
        EXPECT_EQ(frame->protocol, kProtocolIpcp);
        out.push_back(ToHex(frame->information));
      }
    }
    return out;
  }
  void Receive(absl::string_view hex) {
    EXPECT_FALSE(layer_->Receive(HexOrDie(hex)).has_value());
  }
  // Open + Up: our Configure-Request(1) is out.
  void Start() {
    layer_->Open();
    layer_->Up();
    ASSERT_THAT(Sent(), ElementsAre("01010008" "01040578"));
  }

  ScriptedNegotiator negotiator_;
  ActionSink sink_;
  Logger logger_{"test"};
  std::unique_ptr<ControlProtocol> layer_;
  std::vector<std::string> log_;
};

TEST_F(ControlProtocolTest, AckMustMatchIdentifierAndOptions) {
  Start();
  Receive("02020008 01040578");  // wrong Identifier
  Receive("02010008 01040579");  // other options
  Receive("02010004");           // none
  EXPECT_EQ(negotiator_.acks, 0);
  EXPECT_EQ(layer_->state(), State::kReqSent);
  Receive("02010008 01040578");
  EXPECT_EQ(negotiator_.acks, 1);
  EXPECT_EQ(layer_->state(), State::kAckRcvd);
}

TEST_F(ControlProtocolTest, ASecondReplyToTheSameRequestIsStale) {
  // The server answered our Configure-Request(1) and its retransmission:
  // the second Ack must not restart anything.
  Start();
  Receive("02010008 01040578");
  EXPECT_EQ(layer_->state(), State::kAckRcvd);
  Receive("02010008 01040578");
  EXPECT_EQ(negotiator_.acks, 1);
  EXPECT_EQ(layer_->state(), State::kAckRcvd);
  EXPECT_THAT(Sent(), IsEmpty());
  // Nor a stale Nak of it once Opened (the peer's request acked).
  Receive("01070008 01040578");
  ASSERT_EQ(layer_->state(), State::kOpened);
  Sent();
  Receive("03010008 01040579");
  EXPECT_EQ(negotiator_.naks, 0);
  EXPECT_EQ(layer_->state(), State::kOpened);
  EXPECT_THAT(Sent(), IsEmpty());
  EXPECT_THAT(log_, ElementsAre("up"));
}

TEST_F(ControlProtocolTest, RetransmissionAfterAReplyTakesANewIdentifier) {
  Start();
  Receive("02010008 01040578");  // Ack-Rcvd; the restart timer still runs.
  layer_->Timeout();             // TO+ in Ack-Rcvd: scr (RFC 1661 4.1).
  EXPECT_THAT(Sent(), ElementsAre("01020008" "01040578"));
}

TEST_F(ControlProtocolTest, RejectMustBeASubsetOfTheRequest) {
  Start();
  Receive("04010008 01040579");
  EXPECT_EQ(negotiator_.rejects, 0);
  EXPECT_THAT(Sent(), IsEmpty());
  Receive("04010008 01040578");
  EXPECT_EQ(negotiator_.rejects, 1);
  // RCN: a new request with a new Identifier.
  EXPECT_THAT(Sent(), ElementsAre("01020008" "01040578"));
}

TEST_F(ControlProtocolTest, AnswersTheVerdict) {
  Start();
  Receive("01070008 0306aabb");
  EXPECT_THAT(Sent(), ElementsAre("02070008" "0306aabb"));  // Ack echoes
  negotiator_.verdict = RequestVerdict{Code::kConfigureReject,
                                       HexOrDie("0202"), "why"};
  Receive("01080008 02020306");
  EXPECT_THAT(Sent(), ElementsAre("04080006" "0202"));
  EXPECT_EQ(layer_->state(), State::kReqSent);
}

TEST_F(ControlProtocolTest, GivesUpAfterMaxFailureNaks) {
  Start();
  negotiator_.verdict =
      RequestVerdict{Code::kConfigureNak, HexOrDie("0306 01020304"), "no"};
  for (int i = 0; i < 5; ++i) {
    Receive("01090004");
    EXPECT_THAT(Sent(), SizeIs(1));
  }
  EXPECT_THAT(log_, IsEmpty());
  Receive("01090004");
  ASSERT_THAT(log_, SizeIs(1));
  EXPECT_EQ(log_[0],
            "gave up: IPCP: the server's Configure-Request is still "
            "unacceptable after 5 Configure-Naks/-Rejects: no");
  // It closes: Terminate-Request carrying the reason.
  const std::vector<std::string> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].substr(0, 2), "05");
  EXPECT_EQ(layer_->state(), State::kClosing);
}

TEST_F(ControlProtocolTest, GivesUpAfterMaxConfigureNaksReceived) {
  Start();
  for (int i = 1; i < 10; ++i) {
    Receive(absl::StrFormat("03%02x0008 01040578", i));
    ASSERT_THAT(Sent(), SizeIs(1));
  }
  Receive("030a0008 01040578");
  ASSERT_THAT(log_, SizeIs(1));
  EXPECT_EQ(log_[0],
            "gave up: IPCP: the server Nak'd or rejected 10 "
            "Configure-Requests in a row");
}

TEST_F(ControlProtocolTest, NegotiatorFatalGivesUp) {
  Start();
  negotiator_.Fatal(absl::FailedPreconditionError("IPCP: hopeless"));
  Receive("03010008 01040578");
  EXPECT_THAT(log_, ElementsAre("gave up: IPCP: hopeless"));
  // Closing: the peer's Terminate-Ack finishes the layer with that reason.
  Sent();
  Receive("06020004");
  EXPECT_THAT(log_, ElementsAre("gave up: IPCP: hopeless",
                                "finished: IPCP: hopeless"));
}

TEST_F(ControlProtocolTest, RetransmissionKeepsTheIdentifier) {
  Start();
  EXPECT_TRUE(sink_.TimerRunning(TimerId::kIpcpRestart));
  sink_.Expired(TimerId::kIpcpRestart);
  layer_->Timeout();
  EXPECT_THAT(Sent(), ElementsAre("01010008" "01040578"));
  // Changed contents: a new Identifier (RFC 1661 5.1).
  negotiator_.request = HexOrDie("0104 0579");
  layer_->Timeout();
  EXPECT_THAT(Sent(), ElementsAre("01020008" "01040579"));
}

TEST_F(ControlProtocolTest, TimeoutMinusNamesTheState) {
  Start();
  for (int i = 0; i < 9; ++i) layer_->Timeout();
  Sent();
  layer_->Timeout();
  EXPECT_THAT(log_, ElementsAre("finished: IPCP: no reply to 10 "
                                "Configure-Requests"));
  EXPECT_EQ(layer_->state(), State::kStopped);
  EXPECT_FALSE(sink_.TimerRunning(TimerId::kIpcpRestart));
}

TEST_F(ControlProtocolTest, PeerTerminateRequestInOpened) {
  Start();
  Receive("02010008 01040578");
  Receive("01050004");
  EXPECT_THAT(log_, ElementsAre("up"));
  Sent();
  Receive("05060009 627965" "2121");  // "bye!!"
  EXPECT_THAT(Sent(), ElementsAre("06060004"));
  EXPECT_EQ(layer_->state(), State::kStopping);
  // zrc: one restart period, then TO- finishes the layer.
  layer_->Timeout();
  EXPECT_THAT(log_, ElementsAre("up", "down",
                                "finished: IPCP: the server sent "
                                "Terminate-Request: bye!!"));
}

TEST_F(ControlProtocolTest, CodeRejects) {
  Start();
  // Unknown codes (IPCP has 1..7 only) are Code-Rejected, whole.
  Receive("0c0b0006 abcd");
  EXPECT_THAT(Sent(), ElementsAre("0702000a" "0c0b0006abcd"));
  // A Code-Reject of Terminate-Ack is catastrophic (RXJ-): Req-Sent -> tlf.
  Receive("07030008 06010004");
  EXPECT_THAT(log_, ElementsAre("finished: IPCP: the server Code-Rejected "
                                "Terminate-Ack"));
  EXPECT_EQ(layer_->state(), State::kStopped);
}

TEST_F(ControlProtocolTest, CodeRejectIsTruncatedToThePeerMru) {
  Start();
  layer_->set_peer_mru(10);
  Receive("0e010010 000102030405060708090a0b");
  const std::vector<std::string> sent = Sent();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0], "0702000a" "0e0100100001");
}

TEST_F(ControlProtocolTest, ExtensionCodesGoToTheCaller) {
  ControlProtocolParams params;
  params.protocol = kProtocolLcp;
  params.name = "LCP";
  params.max_code = 13;
  ControlProtocol lcp(params, negotiator_, *this, sink_, logger_);
  lcp.Open();
  lcp.Up();
  const std::optional<ControlPacket> echo =
      lcp.Receive(HexOrDie("09030008 11223344"));
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->code, Code::kEchoRequest);
  // Not Opened: RXR is no ser.
  EXPECT_FALSE(lcp.ReceiveEchoOrDiscard());
  // Code 14 is not LCP's: Code-Reject.
  EXPECT_FALSE(lcp.Receive(HexOrDie("0e030004")).has_value());
}

TEST_F(ControlProtocolTest, ClosedAnswersWithTerminateAckAndMalformedIsDropped) {
  layer_->Open();
  layer_->Close("done");  // Starting -> Initial [tlf]
  layer_->Up();           // Initial -> Closed
  Sent();
  log_.clear();
  Receive("01040008 0306aabb");
  EXPECT_THAT(Sent(), ElementsAre("06040004"));
  EXPECT_EQ(negotiator_.evaluations, 0);
  Receive("0104");      // shorter than the header
  Receive("01040010");  // Length past the data
  EXPECT_THAT(Sent(), IsEmpty());
}

}  // namespace
}  // namespace sstp::ppp
