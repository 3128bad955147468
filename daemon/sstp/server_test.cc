#include "daemon/sstp/server.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/random.h"
#include "base/secret.h"
#include "daemon/sstp/call.h"
#include "daemon/sstp/client.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/packet.h"
#include "daemon/sstp/stream.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// MS-SSTP 4.7, SHA256 and SHA1 examples.
constexpr absl::string_view kSha256Hlak =
    "2A1BB40D55AB0F5EF32F06F2B3CC73C4 8FD3FAC41D7A1315A19228D9024CA164";
constexpr absl::string_view kSha256Nonce =
    "412B489AEBD7ECC7D08966F26BE7CD72 B231A0E9210D7C91B308862B0344C435";
constexpr absl::string_view kSha256CertHash =
    "7993EF314C493DACE9F02D60E7E61C84 B6690AAFE9D7AEEA92CBBE8AD599422D";
constexpr absl::string_view kSha256Mac =
    "52A68EFD8CFFBF52770B8F0FE8EC7371 6583AF6D611EB6D179B3B20840985449";
constexpr absl::string_view kSha1Hlak =
    "4B3128F43925D9006EEFB1C4E86515A1 D88E56BAB3CA2BDF0373B7F5A8A13B19";
constexpr absl::string_view kSha1Nonce =
    "0F1A2D58D4A3E3000FAD3CE4906E07B7 07AA9E441CCEAC5CBD7B2CC1C9D86CDF";
constexpr absl::string_view kSha1CertHash = "5826B629BDA59B8E6FD8DCD2622FD34C 534805A5";
constexpr absl::string_view kSha1Mac = "69915DD583D8062FEF16F61DB2F03290 EC27CB6C";
constexpr absl::string_view kTwelveZeroBytes = "000000000000000000000000";

// Another certificate, for the man-in-the-middle case.
constexpr absl::string_view kOtherCertHash =
    "00112233445566778899AABBCCDDEEFF 00112233445566778899AABBCCDDEEFF";

Hlak MakeHlak(absl::string_view hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  Hlak hlak;
  std::copy_n(bytes.begin(), std::min(bytes.size(), Hlak::size()), hlak.data());
  return hlak;
}

CryptoBindingField Field(absl::string_view hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  CryptoBindingField field{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), field.size()), field.begin());
  return field;
}

std::array<uint8_t, kNonceSize> Nonce(absl::string_view hex) {
  std::array<uint8_t, kNonceSize> nonce{};
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  std::copy_n(bytes.begin(), std::min(bytes.size(), nonce.size()), nonce.begin());
  return nonce;
}

CertificateHashes VectorCertificate() {
  return CertificateHashes{Field(kSha1CertHash), Field(kSha256CertHash)};
}

CertificateHashes OtherCertificate() {
  return CertificateHashes{Field(kOtherCertHash), Field(kOtherCertHash)};
}

ServerConfig TestConfig() {
  ServerConfig config;
  config.logger = Logger("server-test");
  return config;
}

ClientConfig TestClientConfig() {
  ClientConfig config;
  config.logger = Logger("client-test");
  return config;
}

// The MS-SSTP 4.7 CALL_CONNECTED messages, assembled from the published
// values.
std::vector<uint8_t> Sha256VectorCallConnected() {
  return HexOrDie(absl::StrCat("10010070 00040001 00030068 00000002", kSha256Nonce, kSha256CertHash,
                               kSha256Mac));
}
std::vector<uint8_t> Sha1VectorCallConnected() {
  return HexOrDie(absl::StrCat("10010070 00040001 00030068 00000001", kSha1Nonce, kSha1CertHash,
                               kTwelveZeroBytes, kSha1Mac, kTwelveZeroBytes));
}

// A CALL_CONNECTED as a client builds it (MS-SSTP 3.2.5.2), from any inputs.
std::vector<uint8_t> BuildCallConnected(HashProtocol hash,
                                        const std::array<uint8_t, kNonceSize>& nonce,
                                        const CryptoBindingField& cert_hash, const Hlak& hlak) {
  CryptoBinding binding;
  binding.hash = hash;
  binding.nonce = nonce;
  binding.cert_hash = cert_hash;
  std::vector<uint8_t> message = EncodeCallConnected(binding);
  absl::StatusOr<Cmk> cmk = ComputeCmk(hash, hlak);
  EXPECT_TRUE(cmk.ok());
  absl::StatusOr<CryptoBindingField> mac = ComputeCompoundMac(hash, *cmk, message);
  EXPECT_TRUE(mac.ok());
  std::copy(mac->begin(), mac->end(), message.begin() + kCompoundMacOffset);
  return message;
}

enum class Input {
  kCallConnectRequest,
  kCallConnectAck,
  kCallConnectNak,
  kCallConnected,
  kCallAbort,
  kCallDisconnect,
  kCallDisconnectAck,
  kEchoRequest,
  kEchoResponse,
  kData,
  kMalformed,
};

absl::string_view InputName(Input input) {
  switch (input) {
    case Input::kCallConnectRequest:
      return "CALL_CONNECT_REQUEST";
    case Input::kCallConnectAck:
      return "CALL_CONNECT_ACK";
    case Input::kCallConnectNak:
      return "CALL_CONNECT_NAK";
    case Input::kCallConnected:
      return "CALL_CONNECTED";
    case Input::kCallAbort:
      return "CALL_ABORT";
    case Input::kCallDisconnect:
      return "CALL_DISCONNECT";
    case Input::kCallDisconnectAck:
      return "CALL_DISCONNECT_ACK";
    case Input::kEchoRequest:
      return "ECHO_REQUEST";
    case Input::kEchoResponse:
      return "ECHO_RESPONSE";
    case Input::kData:
      return "data";
    case Input::kMalformed:
      return "malformed";
  }
  return "?";
}

std::vector<uint8_t> InputBytes(Input input) {
  switch (input) {
    case Input::kCallConnectRequest:
      return EncodeCallConnectRequest();
    case Input::kCallConnectAck:
      return EncodeCallConnectAck(CryptoBindingReq{0x03, Nonce(kSha256Nonce)});
    case Input::kCallConnectNak:
      return *EncodeCallConnectNak(
          {StatusInfo{kAttribIdNoError, StatusCode::kValueNotSupported, {}}});
    case Input::kCallConnected: {
      CryptoBinding binding;
      binding.nonce = {1, 2, 3};
      return EncodeCallConnected(binding);
    }
    case Input::kCallAbort:
      return EncodeCallAbort(StatusInfo{kAttribIdNoError, StatusCode::kNegotiationTimeout, {}});
    case Input::kCallDisconnect:
      return EncodeCallDisconnect(StatusInfo{kAttribIdNoError, StatusCode::kNoError, {}});
    case Input::kCallDisconnectAck:
      return EncodeCallDisconnectAck();
    case Input::kEchoRequest:
      return EncodeEchoRequest();
    case Input::kEchoResponse:
      return EncodeEchoResponse();
    case Input::kData:
      return HexOrDie("1000000C FF03C021 0901 0004");
    case Input::kMalformed:
      // ECHO_REQUEST with a STATUS_INFO attribute (forbidden by 2.2.15).
      return HexOrDie("10010014 00080001 0002000C 00000000 00000000");
  }
  return {};
}

std::string Describe(const Actions& actions) { return DescribeActions(actions); }

std::vector<std::vector<uint8_t>> Sent(const Actions& actions) {
  std::vector<std::vector<uint8_t>> out;
  for (const Action& action : actions) {
    if (const auto* send = std::get_if<SendPacket>(&action)) {
      out.push_back(send->bytes);
    }
  }
  return out;
}

const CallEnded* Ended(const Actions& actions) {
  for (const Action& action : actions) {
    if (const auto* ended = std::get_if<CallEnded>(&action)) return ended;
  }
  return nullptr;
}

// A server with its random source. The nonce it draws is `nonce_hex`.
struct TestServer {
  explicit TestServer(ServerConfig config = TestConfig(),
                      absl::string_view nonce_hex = kSha256Nonce,
                      CertificateHashes certificate = VectorCertificate())
      : random(HexOrDie(nonce_hex)), server(std::move(config), random, certificate) {}
  FixedRandom random;
  SstpServer server;
};

// A server driven into `state` with the spec's messages (SHA256 4.7 values
// for the crypto binding).
std::unique_ptr<TestServer> ServerIn(CallState state, ServerConfig config = TestConfig()) {
  auto t = std::make_unique<TestServer>(std::move(config));
  SstpServer& server = t->server;
  if (state == CallState::kServerCallDisconnected) return t;
  server.Start();
  const bool past_request = state == CallState::kServerCallConnectedPending ||
                            state == CallState::kServerCallConnected ||
                            state == CallState::kCallDisconnectAckPending ||
                            state == CallState::kCallDisconnectTimeoutPending;
  const bool connected = state == CallState::kServerCallConnected ||
                         state == CallState::kCallDisconnectAckPending ||
                         state == CallState::kCallDisconnectTimeoutPending;
  if (past_request) server.OnPacket(EncodeCallConnectRequest());
  if (connected) {
    server.OnPppAuthenticated(MakeHlak(kSha256Hlak));
    server.OnPacket(Sha256VectorCallConnected());
  }
  if (state == CallState::kCallAbortPending) {
    server.OnPacket(EncodeEchoResponse());  // Unexpected: the server aborts.
  } else if (state == CallState::kCallAbortTimeoutPending) {
    server.OnPacket(InputBytes(Input::kCallAbort));  // The client aborts.
  } else if (state == CallState::kCallDisconnectAckPending) {
    server.Disconnect();
  } else if (state == CallState::kCallDisconnectTimeoutPending) {
    server.OnPacket(InputBytes(Input::kCallDisconnect));
  }
  EXPECT_EQ(server.state(), state);
  return t;
}

// ---------------------------------------------------------------------------
// Every state x every input (MS-SSTP 3.3.5.2, 3.3.7.2, 3.1.5.1), written from
// the spec's rules.

struct Cell {
  CallState from;
  Input input;
  CallState to;
  std::string actions;
};

void PrintTo(const Cell& cell, std::ostream* os) {
  *os << CallStateName(cell.from) << " x " << InputName(cell.input);
}

constexpr CallState kDisconnected = CallState::kServerCallDisconnected;
constexpr CallState kRequestPending = CallState::kServerConnectRequestPending;
constexpr CallState kConnectedPending = CallState::kServerCallConnectedPending;
constexpr CallState kConnected = CallState::kServerCallConnected;
constexpr CallState kAbortPending = CallState::kCallAbortPending;
constexpr CallState kAbortTimeout = CallState::kCallAbortTimeoutPending;
constexpr CallState kDiscAckPending = CallState::kCallDisconnectAckPending;
constexpr CallState kDiscTimeout = CallState::kCallDisconnectTimeoutPending;

const std::string kAbortUnaccepted = "send CALL_ABORT[UNACCEPTED_FRAME_RECEIVED], start Abort 3s";
const std::string kAbortMalformed =
    "send CALL_ABORT[ATTRIB_NOT_SUPPORTED_IN_MSG/STATUS_INFO], start Abort 3s";
const std::string kAnswerAbort = "send CALL_ABORT[NO_ERROR], start Abort 1s";
const std::string kAnswerDisconnect = "send CALL_DISCONNECT_ACK, start Disconnect 1s";

std::string Stop(absl::string_view timer, absl::string_view rest) {
  return absl::StrCat("stop ", timer, ", ", rest);
}

std::vector<Cell> Ignored(CallState state, std::vector<Input> inputs) {
  std::vector<Cell> cells;
  for (Input input : inputs) cells.push_back({state, input, state, ""});
  return cells;
}

// The rows of a state in which only the common messages are acceptable:
// every other message aborts (after stopping `timer`, if any).
std::vector<Cell> Establishing(CallState state, absl::string_view timer,
                               std::vector<Cell> special) {
  auto with_stop = [&](const std::string& rest) {
    return timer.empty() ? rest : Stop(timer, rest);
  };
  std::vector<Cell> cells = std::move(special);
  auto has = [&](Input input) {
    return std::any_of(cells.begin(), cells.end(), [&](const Cell& c) { return c.input == input; });
  };
  using enum Input;
  for (Input input : {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                      kCallDisconnectAck, kEchoRequest, kEchoResponse}) {
    if (!has(input)) cells.push_back({state, input, kAbortPending, with_stop(kAbortUnaccepted)});
  }
  if (!has(kCallAbort))
    cells.push_back({state, kCallAbort, kAbortTimeout, with_stop(kAnswerAbort)});
  if (!has(kCallDisconnect)) {
    cells.push_back({state, kCallDisconnect, kDiscTimeout, with_stop(kAnswerDisconnect)});
  }
  if (!has(kData)) cells.push_back({state, kData, state, ""});
  if (!has(kMalformed))
    cells.push_back({state, kMalformed, kAbortPending, with_stop(kAbortMalformed)});
  return cells;
}

std::vector<Cell> Table() {
  using enum Input;
  std::vector<Cell> t;
  auto add = [&t](std::vector<Cell> cells) { t.insert(t.end(), cells.begin(), cells.end()); };
  // Server_Call_Disconnected, before Start(): nothing is acceptable.
  add(Establishing(kDisconnected, "", {}));
  // Server_Connect_Request_Pending: 3.3.5.2.2 accepts the request.
  add(Establishing(kRequestPending, "Negotiation",
                   {{kRequestPending, kCallConnectRequest, kConnectedPending,
                     "send CALL_CONNECT_ACK, start Negotiation 1m, ppp-may-start"}}));
  // Server_Call_Connected_Pending: a CALL_CONNECTED before the HLAK is kept
  // for later (3.3.5.2.3 needs ServerHLAKKey).
  add(Establishing(kConnectedPending, "Negotiation",
                   {{kConnectedPending, kCallConnected, kConnectedPending, ""}}));
  // Server_Call_Connected: echo (3.3.5.2.7-8).
  add(Establishing(kConnected, "Hello",
                   {{kConnected, kEchoRequest, kConnected, "start Hello 1m, send ECHO_RESPONSE"},
                    {kConnected, kEchoResponse, kConnected, "start Hello 1m"}}));
  // Shutting down (3.1.1.1, 3.3.5.2.4-6).
  t.push_back({kAbortPending, kCallAbort, kAbortTimeout, "start Abort 1s"});
  add(Ignored(kAbortPending, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                              kCallDisconnect, kCallDisconnectAck, kEchoRequest, kEchoResponse,
                              kData, kMalformed}));
  add(Ignored(kAbortTimeout, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                              kCallAbort, kCallDisconnect, kCallDisconnectAck, kEchoRequest,
                              kEchoResponse, kData, kMalformed}));
  t.push_back({kDiscAckPending, kCallAbort, kAbortTimeout, Stop("Disconnect", kAnswerAbort)});
  t.push_back({kDiscAckPending, kCallDisconnect, kDiscTimeout, kAnswerDisconnect});
  t.push_back({kDiscAckPending, kCallDisconnectAck, kDisconnected, "stop Disconnect, ended(OK)"});
  add(Ignored(kDiscAckPending, {kCallConnectRequest, kCallConnectAck, kCallConnectNak,
                                kCallConnected, kEchoRequest, kEchoResponse, kData, kMalformed}));
  add(Ignored(kDiscTimeout, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                             kCallAbort, kCallDisconnect, kCallDisconnectAck, kEchoRequest,
                             kEchoResponse, kData, kMalformed}));
  return t;
}

class ServerStateTableTest : public ::testing::TestWithParam<Cell> {};

TEST_P(ServerStateTableTest, Cell) {
  const Cell& cell = GetParam();
  std::unique_ptr<TestServer> t = ServerIn(cell.from);
  const Actions actions = t->server.OnPacket(InputBytes(cell.input));
  EXPECT_EQ(Describe(actions), cell.actions);
  EXPECT_EQ(t->server.state(), cell.to) << CallStateName(t->server.state());
}

INSTANTIATE_TEST_SUITE_P(AllStatesAllInputs, ServerStateTableTest, ::testing::ValuesIn(Table()));

TEST(ServerStateTableCoverageTest, EveryStateTimesEveryInput) {
  const std::vector<Cell> table = Table();
  EXPECT_EQ(table.size(), 8u * 11u);
  for (CallState state : {kDisconnected, kRequestPending, kConnectedPending, kConnected,
                          kAbortPending, kAbortTimeout, kDiscAckPending, kDiscTimeout}) {
    for (int i = 0; i <= static_cast<int>(Input::kMalformed); ++i) {
      const Input input = static_cast<Input>(i);
      EXPECT_EQ(std::count_if(table.begin(), table.end(),
                              [&](const Cell& c) { return c.from == state && c.input == input; }),
                1)
          << CallStateName(state) << " x " << InputName(input);
    }
  }
}

// ---------------------------------------------------------------------------
// CALL_CONNECT_REQUEST (MS-SSTP 3.3.5.2.2).

TEST(SstpServerTest, AckCarriesTheConfiguredBitmaskAndAFreshNonce) {
  ServerConfig config = TestConfig();
  config.hash_bitmask = kHashBitmaskSha256;
  TestServer t(config);
  EXPECT_EQ(Describe(t.server.Start()), "start Negotiation 1m");
  const Actions ack = t.server.OnPacket(EncodeCallConnectRequest());
  EXPECT_EQ(Sent(ack).at(0),
            HexOrDie(absl::StrCat("10010030 00020001 00040028 00000002", kSha256Nonce)));
  EXPECT_EQ(t.server.nonce(), Nonce(kSha256Nonce));
  EXPECT_TRUE(t.server.ppp_control_allowed());
  EXPECT_FALSE(t.server.data_allowed());
}

TEST(SstpServerTest, BitmaskWithoutAKnownHashFallsBackToBoth) {
  ServerConfig config = TestConfig();
  config.hash_bitmask = 0x04;
  TestServer t(config);
  t.server.Start();
  absl::StatusOr<Packet> ack =
      ParsePacket(Sent(t.server.OnPacket(EncodeCallConnectRequest())).at(0));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->control()->crypto_binding_req->hash_bitmask, 0x03);
}

TEST(SstpServerTest, NaksTheConfiguredNumberOfRequestsThenAccepts) {
  ServerConfig config = TestConfig();
  config.nak_first_requests = 2;
  TestServer t(config);
  t.server.Start();
  for (int i = 1; i <= 2; ++i) {
    const Actions nak = t.server.OnPacket(EncodeCallConnectRequest());
    EXPECT_EQ(Describe(nak), "send CALL_CONNECT_NAK[VALUE_NOT_SUPPORTED/ENCAPSULATED_PROTOCOL_ID]");
    EXPECT_EQ(t.server.naks_sent(), i);
    EXPECT_EQ(t.server.state(), kRequestPending);
  }
  EXPECT_EQ(Describe(t.server.OnPacket(EncodeCallConnectRequest())),
            "send CALL_CONNECT_ACK, start Negotiation 1m, ppp-may-start");
}

TEST(SstpServerTest, NaksAProtocolOtherThanPppWithItsValue) {
  TestServer t;
  t.server.Start();
  // Encapsulated Protocol ID 2 (MS-SSTP 2.2.5 defines only 1, PPP).
  const Actions nak = t.server.OnPacket(HexOrDie("1001000E 00010001 00010006 0002"));
  absl::StatusOr<Packet> packet = ParsePacket(Sent(nak).at(0));
  ASSERT_TRUE(packet.ok()) << packet.status();
  EXPECT_EQ(packet->control()->type, MessageType::kCallConnectNak);
  EXPECT_EQ(packet->control()->status_info.at(0),
            (StatusInfo{static_cast<uint8_t>(AttributeId::kEncapsulatedProtocolId),
                        StatusCode::kValueNotSupported,
                        {0x00, 0x02}}));
}

TEST(SstpServerTest, UnacceptableRequestBeyondTheNakLimitAborts) {
  ServerConfig config = TestConfig();
  config.nak_retry_limit = 1;
  TestServer t(config);
  t.server.Start();
  const std::vector<uint8_t> not_ppp = HexOrDie("1001000E 00010001 00010006 0002");
  EXPECT_EQ(Describe(t.server.OnPacket(not_ppp)),
            "send CALL_CONNECT_NAK[VALUE_NOT_SUPPORTED/ENCAPSULATED_PROTOCOL_ID]");
  EXPECT_EQ(Describe(t.server.OnPacket(not_ppp)),
            "stop Negotiation, send CALL_ABORT[RETRY_COUNT_EXCEEDED/STATUS_INFO], "
            "start Abort 3s");
  const Actions ended = t.server.OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(UNAVAILABLE)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("client's CALL_CONNECT_REQUEST still unacceptable after 1 "
                        "CALL_CONNECT_NAKs (limit 1): encapsulated protocol 0x0002 is "
                        "not PPP"));
}

struct MalformedRequest {
  std::string name;
  std::string hex;
  std::string nak;
};

void PrintTo(const MalformedRequest& m, std::ostream* os) { *os << m.name; }

class MalformedRequestTest : public ::testing::TestWithParam<MalformedRequest> {};

// MS-SSTP 3.3.5.2.2: the NAK names each unacceptable attribute and why.
TEST_P(MalformedRequestTest, IsNakedNamingTheAttribute) {
  TestServer t;
  t.server.Start();
  EXPECT_EQ(Describe(t.server.OnPacket(HexOrDie(GetParam().hex))), GetParam().nak);
  EXPECT_EQ(t.server.state(), kRequestPending);
}

INSTANTIATE_TEST_SUITE_P(
    Requests, MalformedRequestTest,
    ::testing::Values(
        MalformedRequest{"DuplicateAttribute", "10010014 00010002 00010006 0001 00010006 0001",
                         "send CALL_CONNECT_NAK[DUPLICATE_ATTRIBUTE/"
                         "ENCAPSULATED_PROTOCOL_ID]"},
        MalformedRequest{"WrongLength", "10010010 00010001 00010008 00010000",
                         "send CALL_CONNECT_NAK[INVALID_ATTRIB_VALUE_LENGTH/"
                         "ENCAPSULATED_PROTOCOL_ID]"},
        MalformedRequest{"UnrecognizedAttribute", "1001000E 00010001 00070006 0001",
                         "send CALL_CONNECT_NAK[UNRECOGNIZED_ATTRIBUTE/UNKNOWN]"},
        // "Attribute ID is set to SSTP_ATTRIB_STATUS_INFO and the status field
        // is set to ATTRIB_STATUS_STATUS_INFO_NOT_SUPPORTED_IN_MSG".
        MalformedRequest{"StatusInfoPresent",
                         "1001001A 00010002 00010006 0001 0002000C 00000000 00000000",
                         "send CALL_CONNECT_NAK[STATUS_INFO_NOT_SUPPORTED_IN_MSG/"
                         "STATUS_INFO]"},
        // "the Attribute ID is set to SSTP_ATTRIB_STATUS_INFO and status is set
        // to ATTRIB_STATUS_REQUIRED_ATTRIBUTE_MISSING".
        MalformedRequest{"ProtocolMissing", "10010008 00010000",
                         "send CALL_CONNECT_NAK[REQUIRED_ATTRIBUTE_MISSING/STATUS_INFO]"}),
    [](const ::testing::TestParamInfo<MalformedRequest>& info) { return info.param.name; });

TEST(SstpServerTest, UnintelligibleRequestFrameAbortsInsteadOfNak) {
  TestServer t;
  t.server.Start();
  // NumAttr 2 with one attribute: INVALID_FRAME_RECEIVED (3.1.5.1).
  EXPECT_EQ(Describe(t.server.OnPacket(HexOrDie("1001000E 00010002 00010006 0001"))),
            "stop Negotiation, send CALL_ABORT[INVALID_FRAME_RECEIVED], start Abort 3s");
}

TEST(SstpServerTest, StrictModeAbortsOnReservedBits) {
  // Header byte 1 = 0x03: control bit plus a reserved bit (MS-SSTP 2.2.1).
  const std::vector<uint8_t> request = HexOrDie("1003000E 00010001 00010006 0001");
  {
    TestServer lenient;
    lenient.server.Start();
    EXPECT_EQ(Describe(lenient.server.OnPacket(request)),
              "send CALL_CONNECT_ACK, start Negotiation 1m, ppp-may-start");
  }
  ServerConfig config = TestConfig();
  config.strict = true;
  TestServer strict(config);
  strict.server.Start();
  EXPECT_EQ(Describe(strict.server.OnPacket(request)),
            "stop Negotiation, send CALL_ABORT[INVALID_FRAME_RECEIVED], start Abort 3s");
  const Actions ended = strict.server.OnTimer(TimerId::kAbort);
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("CALL_CONNECT_REQUEST from the client has reserved bits set "
                        "(strict mode"));
}

// ---------------------------------------------------------------------------
// CALL_CONNECTED and the crypto binding (MS-SSTP 3.3.5.2.3).

TEST(SstpServerTest, AcceptsTheMsSstp47Sha256CallConnected) {
  std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
  EXPECT_THAT(t->server.OnPppAuthenticated(MakeHlak(kSha256Hlak)), IsEmpty());
  EXPECT_EQ(Describe(t->server.OnPacket(Sha256VectorCallConnected())),
            "stop Negotiation, start Hello 1m, call-connected");
  EXPECT_EQ(t->server.state(), kConnected);
  EXPECT_TRUE(t->server.data_allowed());
}

TEST(SstpServerTest, AcceptsTheMsSstp47Sha1CallConnected) {
  ServerConfig config = TestConfig();
  config.hash_bitmask = kHashBitmaskSha1;
  TestServer t(config, kSha1Nonce);
  t.server.Start();
  t.server.OnPacket(EncodeCallConnectRequest());
  t.server.OnPppAuthenticated(MakeHlak(kSha1Hlak));
  EXPECT_EQ(Describe(t.server.OnPacket(Sha1VectorCallConnected())),
            "stop Negotiation, start Hello 1m, call-connected");
}

TEST(SstpServerTest, CallConnectedBeforeAuthenticationIsDeferred) {
  std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
  EXPECT_THAT(t->server.OnPacket(Sha256VectorCallConnected()), IsEmpty());
  EXPECT_TRUE(t->server.call_connected_deferred());
  EXPECT_EQ(t->server.state(), kConnectedPending);
  EXPECT_FALSE(t->server.data_allowed());
  EXPECT_EQ(Describe(t->server.OnPppAuthenticated(MakeHlak(kSha256Hlak))),
            "stop Negotiation, start Hello 1m, call-connected");
  EXPECT_FALSE(t->server.call_connected_deferred());
  EXPECT_TRUE(t->server.data_allowed());
}

TEST(SstpServerTest, DeferredCallConnectedWithAWrongMacAbortsOnAuthentication) {
  std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
  t->server.OnPacket(Sha256VectorCallConnected());
  EXPECT_EQ(Describe(t->server.OnPppAuthenticated(MakeHlak(kSha1Hlak))),
            "stop Negotiation, send CALL_ABORT[VALUE_NOT_SUPPORTED/CRYPTO_BINDING], "
            "start Abort 3s");
}

TEST(SstpServerTest, SecondCallConnectedWhileDeferredAborts) {
  std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
  t->server.OnPacket(Sha256VectorCallConnected());
  EXPECT_EQ(Describe(t->server.OnPacket(Sha256VectorCallConnected())),
            "stop Negotiation, send CALL_ABORT[UNACCEPTED_FRAME_RECEIVED], start Abort 3s");
}

struct BadBinding {
  std::string name;
  uint8_t offered;
  HashProtocol hash;
  std::string nonce;
  std::string cert;
  std::string hlak;
  bool flip_mac;
  std::string reason;
};

void PrintTo(const BadBinding& b, std::ostream* os) { *os << b.name; }

class CryptoBindingCheckTest : public ::testing::TestWithParam<BadBinding> {};

TEST_P(CryptoBindingCheckTest, AbortsNamingTheWrongField) {
  const BadBinding& b = GetParam();
  ServerConfig config = TestConfig();
  config.hash_bitmask = b.offered;
  TestServer t(config);  // Nonce: kSha256Nonce.
  t.server.Start();
  t.server.OnPacket(EncodeCallConnectRequest());
  t.server.OnPppAuthenticated(MakeHlak(kSha256Hlak));
  std::vector<uint8_t> message =
      BuildCallConnected(b.hash, Nonce(b.nonce), Field(b.cert), MakeHlak(b.hlak));
  if (b.flip_mac) message[kCompoundMacOffset + 5] ^= 0x01;
  EXPECT_EQ(Describe(t.server.OnPacket(message)),
            "stop Negotiation, send CALL_ABORT[VALUE_NOT_SUPPORTED/CRYPTO_BINDING], "
            "start Abort 3s");
  EXPECT_FALSE(t.server.data_allowed());
  const Actions ended = t.server.OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(PERMISSION_DENIED)");
  EXPECT_EQ(
      Ended(ended)->reason.message(),
      absl::StrCat("CALL_CONNECTED crypto binding rejected: ", b.reason, " (MS-SSTP 3.3.5.2.3)"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CryptoBindingCheckTest,
    ::testing::Values(
        BadBinding{"WrongNonce", 0x03, HashProtocol::kSha256, std::string(kSha1Nonce),
                   std::string(kSha256CertHash), std::string(kSha256Hlak), false,
                   "nonce differs from the one sent in CALL_CONNECT_ACK"},
        BadBinding{"WrongCertHash", 0x03, HashProtocol::kSha256, std::string(kSha256Nonce),
                   std::string(kOtherCertHash), std::string(kSha256Hlak), false,
                   "certificate hash is not the SHA256 hash of this server's "
                   "certificate"},
        BadBinding{"Sha1CertHashInSha256Binding", 0x03, HashProtocol::kSha256,
                   std::string(kSha256Nonce), std::string(kSha1CertHash), std::string(kSha256Hlak),
                   false,
                   "certificate hash is not the SHA256 hash of this server's "
                   "certificate"},
        BadBinding{"HashNotOffered", kHashBitmaskSha256, HashProtocol::kSha1,
                   std::string(kSha256Nonce), std::string(kSha1CertHash), std::string(kSha256Hlak),
                   false, "hash protocol SHA1 was not offered (CALL_CONNECT_ACK bitmask 0x02)"},
        BadBinding{"AlteredMac", 0x03, HashProtocol::kSha256, std::string(kSha256Nonce),
                   std::string(kSha256CertHash), std::string(kSha256Hlak), true,
                   "Compound MAC (SHA256) does not verify: wrong HLAK or altered "
                   "message"},
        BadBinding{"WrongHlak", 0x03, HashProtocol::kSha256, std::string(kSha256Nonce),
                   std::string(kSha256CertHash), std::string(kSha1Hlak), false,
                   "Compound MAC (SHA256) does not verify: wrong HLAK or altered "
                   "message"}),
    [](const ::testing::TestParamInfo<BadBinding>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Echo, timers, management events.

TEST(SstpServerTest, SoftEtherLikeServerDoesNotAnswerEchoRequests) {
  ServerConfig config = TestConfig();
  config.answer_echo_requests = false;
  std::unique_ptr<TestServer> t = ServerIn(kConnected, config);
  EXPECT_EQ(Describe(t->server.OnPacket(EncodeEchoRequest())), "start Hello 1m");
}

TEST(SstpServerTimerTest, HelloEchoThenSilenceEndsTheCall) {
  std::unique_ptr<TestServer> t = ServerIn(kConnected);
  EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kHello)), "send ECHO_REQUEST, start Hello 1m");
  const Actions ended = t->server.OnTimer(TimerId::kHello);
  EXPECT_EQ(Describe(ended), "ended(DEADLINE_EXCEEDED)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("client silent for 2 hello intervals (2m)"));
}

TEST(SstpServerTimerTest, NegotiationTimeoutWaitingForTheRequest) {
  std::unique_ptr<TestServer> t = ServerIn(kRequestPending);
  EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kNegotiation)),
            "send CALL_ABORT[NEGOTIATION_TIMEOUT], start Abort 3s");
  const Actions ended = t->server.OnTimer(TimerId::kAbort);
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("no acceptable CALL_CONNECT_REQUEST from the client within 1m"));
}

TEST(SstpServerTimerTest, NegotiationTimeoutWaitingForCallConnected) {
  std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
  t->server.OnPacket(Sha256VectorCallConnected());  // Deferred, no HLAK ever.
  EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kNegotiation)),
            "send CALL_ABORT[NEGOTIATION_TIMEOUT], start Abort 3s");
  const Actions ended = t->server.OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(DEADLINE_EXCEEDED)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("no valid CALL_CONNECTED from the client within 1m of "
                        "CALL_CONNECT_ACK; one arrived but PPP authentication never "
                        "completed"));
}

TEST(SstpServerTimerTest, AbortAndDisconnectTimersEndTheCall) {
  {
    std::unique_ptr<TestServer> t = ServerIn(kAbortPending);
    EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kAbort)), "ended(FAILED_PRECONDITION)");
  }
  {
    std::unique_ptr<TestServer> t = ServerIn(kAbortTimeout);
    const Actions ended = t->server.OnTimer(TimerId::kAbort);
    EXPECT_EQ(Describe(ended), "ended(ABORTED, by peer)");
    EXPECT_EQ(Ended(ended)->reason.message(),
              "client aborted the call: ATTRIB_STATUS_NEGOTIATION_TIMEOUT (in state "
              "Server_Connect_Request_Pending)");
  }
  {
    std::unique_ptr<TestServer> t = ServerIn(kDiscAckPending);
    EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kDisconnect)), "ended(OK)");
  }
  {
    std::unique_ptr<TestServer> t = ServerIn(kDiscTimeout);
    EXPECT_EQ(Describe(t->server.OnTimer(TimerId::kDisconnect)), "ended(OK, by peer)");
  }
}

TEST(SstpServerTimerTest, TimersThatDoNotRunAreIgnoredInEveryState) {
  struct Running {
    CallState state;
    TimerId running;
  };
  for (const Running& r : std::vector<Running>{{kRequestPending, TimerId::kNegotiation},
                                               {kConnectedPending, TimerId::kNegotiation},
                                               {kConnected, TimerId::kHello},
                                               {kAbortPending, TimerId::kAbort},
                                               {kAbortTimeout, TimerId::kAbort},
                                               {kDiscAckPending, TimerId::kDisconnect},
                                               {kDiscTimeout, TimerId::kDisconnect}}) {
    for (TimerId id :
         {TimerId::kNegotiation, TimerId::kHello, TimerId::kAbort, TimerId::kDisconnect}) {
      if (id == r.running) continue;
      std::unique_ptr<TestServer> t = ServerIn(r.state);
      EXPECT_THAT(t->server.OnTimer(id), IsEmpty())
          << CallStateName(r.state) << " " << TimerIdName(id);
    }
  }
  std::unique_ptr<TestServer> t = ServerIn(kDisconnected);
  EXPECT_THAT(t->server.OnTimer(TimerId::kNegotiation), IsEmpty());
}

TEST(SstpServerTest, ManagementAbortSendsTheGivenStatus) {
  std::unique_ptr<TestServer> t = ServerIn(kConnected);
  EXPECT_EQ(Describe(t->server.Abort(StatusCode::kNegotiationTimeout)),
            "stop Hello, send CALL_ABORT[NEGOTIATION_TIMEOUT], start Abort 3s");
  EXPECT_THAT(t->server.Abort(StatusCode::kNoError), IsEmpty());  // Going down.
}

TEST(SstpServerTest, DisconnectAndTransportClose) {
  {
    std::unique_ptr<TestServer> t = ServerIn(kConnected);
    EXPECT_EQ(Describe(t->server.Disconnect()),
              "stop Hello, send CALL_DISCONNECT[NO_ERROR], start Disconnect 5s");
  }
  {
    std::unique_ptr<TestServer> t = ServerIn(kDisconnected);
    EXPECT_EQ(Describe(t->server.Disconnect()), "ended(OK)");
  }
  {
    std::unique_ptr<TestServer> t = ServerIn(kConnectedPending);
    const Actions ended = t->server.OnTransportClosed();
    EXPECT_EQ(Describe(ended), "stop Negotiation, ended(UNAVAILABLE, by peer)");
    EXPECT_EQ(Ended(ended)->reason.message(),
              "transport closed in state Server_Call_Connected_Pending");
  }
}

TEST(SstpServerTest, PppFramePermissionsPerState) {
  struct Expect {
    CallState state;
    bool control;
    bool data;
  };
  // MS-SSTP 3.3.7.1 / 3.3.7.2.
  for (const Expect& e : std::vector<Expect>{{kDisconnected, false, false},
                                             {kRequestPending, false, false},
                                             {kConnectedPending, true, false},
                                             {kConnected, true, true},
                                             {kAbortPending, false, false},
                                             {kAbortTimeout, false, false},
                                             {kDiscAckPending, false, false},
                                             {kDiscTimeout, false, false}}) {
    std::unique_ptr<TestServer> t = ServerIn(e.state);
    EXPECT_EQ(t->server.ppp_control_allowed(), e.control) << CallStateName(e.state);
    EXPECT_EQ(t->server.data_allowed(), e.data) << CallStateName(e.state);
  }
}

// ---------------------------------------------------------------------------
// Client and server back to back: every byte goes through the encoders,
// PacketReassembler (fed in 3-byte chunks) and ParsePacket().

struct Side {
  std::map<TimerId, absl::Duration> timers;
  bool ppp_may_start = false;
  bool connected = false;
  std::optional<CallEnded> ended;
  std::vector<std::string> sent;  // Message names, in order.
};

class Wire {
 public:
  Wire(ClientConfig client_config, const CertificateHashes& client_sees, ServerConfig server_config,
       const CertificateHashes& server_has, absl::string_view nonce_hex = kSha256Nonce)
      : random_(HexOrDie(nonce_hex)),
        client_(std::move(client_config), client_sees),
        server_(std::move(server_config), random_, server_has) {}

  SstpClient& client() { return client_; }
  SstpServer& server() { return server_; }
  const Side& client_side() const { return client_side_; }
  const Side& server_side() const { return server_side_; }

  void Client(Actions actions) {
    Apply(actions, client_side_, to_server_);
    Pump();
  }
  void Server(Actions actions) {
    Apply(actions, server_side_, to_client_);
    Pump();
  }
  // Fires a timer the machine asked for.
  void FireClientTimer(TimerId id) {
    ASSERT_EQ(client_side_.timers.erase(id), 1u) << TimerIdName(id);
    Client(client_.OnTimer(id));
  }
  void FireServerTimer(TimerId id) {
    ASSERT_EQ(server_side_.timers.erase(id), 1u) << TimerIdName(id);
    Server(server_.OnTimer(id));
  }

  // Start both; the client goes as far as it can without PPP.
  void Open() {
    Server(server_.Start());
    Client(client_.Start());
  }

 private:
  static void Apply(const Actions& actions, Side& side, std::vector<uint8_t>& out) {
    for (const Action& action : actions) {
      if (const auto* send = std::get_if<SendPacket>(&action)) {
        out.insert(out.end(), send->bytes.begin(), send->bytes.end());
        absl::StatusOr<Packet> packet = ParsePacket(send->bytes);
        ASSERT_TRUE(packet.ok()) << packet.status();
        side.sent.emplace_back(packet->control() ? MessageTypeName(packet->control()->type)
                                                 : "data");
      } else if (const auto* start = std::get_if<StartTimer>(&action)) {
        side.timers[start->id] = start->after;
      } else if (const auto* stop = std::get_if<StopTimer>(&action)) {
        EXPECT_EQ(side.timers.erase(stop->id), 1u) << "stopping a stopped timer";
      } else if (std::holds_alternative<PppMayStart>(action)) {
        side.ppp_may_start = true;
      } else if (std::holds_alternative<CallConnected>(action)) {
        side.connected = true;
      } else if (const auto* ended = std::get_if<CallEnded>(&action)) {
        EXPECT_FALSE(side.ended.has_value()) << "ended twice";
        side.ended = *ended;
        EXPECT_THAT(side.timers, IsEmpty()) << "timers left running at the end";
      }
    }
  }

  template <typename Machine>
  void Deliver(std::vector<uint8_t>& in, PacketReassembler& reassembler, Machine& machine,
               Side& side, std::vector<uint8_t>& out) {
    const std::vector<uint8_t> bytes = std::exchange(in, {});
    for (size_t i = 0; i < bytes.size(); i += 3) {
      const size_t n = std::min<size_t>(3, bytes.size() - i);
      const absl::Status fed = reassembler.Feed(
          absl::MakeConstSpan(bytes).subspan(i, n), [&](absl::Span<const uint8_t> packet) {
            absl::StatusOr<PacketHeader> header = ParseHeader(packet);
            ASSERT_TRUE(header.ok());
            if (header->control) {
              Apply(machine.OnPacket(packet), side, out);
            } else {
              machine.OnDataReceived();
            }
          });
      ASSERT_TRUE(fed.ok()) << fed;
    }
  }

  void Pump() {
    while (!to_server_.empty() || !to_client_.empty()) {
      Deliver(to_server_, server_stream_, server_, server_side_, to_client_);
      Deliver(to_client_, client_stream_, client_, client_side_, to_server_);
    }
  }

  FixedRandom random_;
  SstpClient client_;
  SstpServer server_;
  Side client_side_;
  Side server_side_;
  std::vector<uint8_t> to_server_;
  std::vector<uint8_t> to_client_;
  PacketReassembler server_stream_;
  PacketReassembler client_stream_;
};

TEST(BackToBackTest, ConnectsWithDeferredBindingThenClientDisconnects) {
  Wire wire(TestClientConfig(), VectorCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  EXPECT_EQ(wire.client().state(), CallState::kClientConnectAckReceived);
  EXPECT_EQ(wire.server().state(), CallState::kServerCallConnectedPending);
  EXPECT_TRUE(wire.client_side().ppp_may_start);
  EXPECT_TRUE(wire.server_side().ppp_may_start);
  EXPECT_EQ(wire.client().negotiated_hash(), HashProtocol::kSha256);

  // PPP authentication completes on the client first: its CALL_CONNECTED
  // waits at the server for the server's HLAK.
  const Hlak hlak = MakeHlak(kSha256Hlak);
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  EXPECT_TRUE(wire.client_side().connected);
  EXPECT_TRUE(wire.server().call_connected_deferred());
  EXPECT_FALSE(wire.server().data_allowed());
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  EXPECT_TRUE(wire.server_side().connected);
  EXPECT_EQ(wire.server().state(), CallState::kServerCallConnected);
  EXPECT_EQ(wire.client_side().timers,
            (std::map<TimerId, absl::Duration>{{TimerId::kHello, absl::Seconds(60)}}));
  EXPECT_EQ(wire.server_side().timers,
            (std::map<TimerId, absl::Duration>{{TimerId::kHello, absl::Seconds(60)}}));

  wire.Client(wire.client().Disconnect());
  ASSERT_TRUE(wire.client_side().ended.has_value());
  EXPECT_TRUE(wire.client_side().ended->reason.ok());
  EXPECT_FALSE(wire.client_side().ended->by_peer);
  EXPECT_EQ(wire.server().state(), CallState::kCallDisconnectTimeoutPending);
  wire.FireServerTimer(TimerId::kDisconnect);
  ASSERT_TRUE(wire.server_side().ended.has_value());
  EXPECT_TRUE(wire.server_side().ended->reason.ok());
  EXPECT_TRUE(wire.server_side().ended->by_peer);
  EXPECT_EQ(
      wire.client_side().sent,
      (std::vector<std::string>{"CALL_CONNECT_REQUEST", "CALL_CONNECTED", "CALL_DISCONNECT"}));
  EXPECT_EQ(wire.server_side().sent,
            (std::vector<std::string>{"CALL_CONNECT_ACK", "CALL_DISCONNECT_ACK"}));
}

TEST(BackToBackTest, Sha256OnlyServerWithHlakFirst) {
  ServerConfig config = TestConfig();
  config.hash_bitmask = kHashBitmaskSha256;
  Wire wire(TestClientConfig(), VectorCertificate(), config, VectorCertificate());
  wire.Open();
  const Hlak hlak;  // PAP/CHAP: 32 zero bytes.
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  EXPECT_TRUE(wire.client().data_allowed());
  EXPECT_TRUE(wire.server().data_allowed());
  EXPECT_EQ(wire.client().negotiated_hash(), HashProtocol::kSha256);
}

TEST(BackToBackTest, Sha1OnlyServer) {
  ServerConfig config = TestConfig();
  config.hash_bitmask = kHashBitmaskSha1;
  Wire wire(TestClientConfig(), VectorCertificate(), config, VectorCertificate());
  wire.Open();
  const Hlak hlak = MakeHlak(kSha1Hlak);
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  EXPECT_EQ(wire.client().negotiated_hash(), HashProtocol::kSha1);
  EXPECT_TRUE(wire.server_side().connected);
  EXPECT_EQ(wire.server().state(), CallState::kServerCallConnected);
}

TEST(BackToBackTest, NakRetryThenSuccess) {
  ServerConfig config = TestConfig();
  config.nak_first_requests = 2;
  Wire wire(TestClientConfig(), VectorCertificate(), config, VectorCertificate());
  wire.Open();
  EXPECT_EQ(wire.client().naks_received(), 2);
  EXPECT_EQ(wire.server().naks_sent(), 2);
  EXPECT_EQ(wire.client().state(), CallState::kClientConnectAckReceived);
  EXPECT_EQ(wire.client_side().sent,
            (std::vector<std::string>{"CALL_CONNECT_REQUEST", "CALL_CONNECT_REQUEST",
                                      "CALL_CONNECT_REQUEST"}));
}

TEST(BackToBackTest, NakBeyondTheClientsLimitAbortsBothWays) {
  ServerConfig config = TestConfig();
  config.nak_first_requests = 10;
  config.nak_retry_limit = 10;
  Wire wire(TestClientConfig(), VectorCertificate(), config, VectorCertificate());
  wire.Open();
  EXPECT_EQ(wire.server().naks_sent(), 4);
  EXPECT_EQ(wire.client().state(), CallState::kCallAbortTimeoutPending);
  EXPECT_EQ(wire.server().state(), CallState::kCallAbortTimeoutPending);
  wire.FireClientTimer(TimerId::kAbort);
  wire.FireServerTimer(TimerId::kAbort);
  ASSERT_TRUE(wire.client_side().ended.has_value());
  EXPECT_FALSE(wire.client_side().ended->by_peer);
  EXPECT_THAT(wire.client_side().ended->reason.message(),
              HasSubstr("server refused CALL_CONNECT_REQUEST 4 times (retry limit 3)"));
  ASSERT_TRUE(wire.server_side().ended.has_value());
  EXPECT_TRUE(wire.server_side().ended->by_peer);
  EXPECT_EQ(wire.server_side().ended->reason.message(),
            "client aborted the call: ATTRIB_STATUS_RETRY_COUNT_EXCEEDED for attribute "
            "STATUS_INFO (in state Server_Connect_Request_Pending)");
}

TEST(BackToBackTest, ManInTheMiddleCertificateIsCaughtByTheServer) {
  // The client's TLS peer presented another certificate than the server's.
  Wire wire(TestClientConfig(), OtherCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  const Hlak hlak = MakeHlak(kSha256Hlak);
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  EXPECT_FALSE(wire.server_side().connected);
  EXPECT_EQ(wire.client().state(), CallState::kCallAbortTimeoutPending);
  wire.FireClientTimer(TimerId::kAbort);
  wire.FireServerTimer(TimerId::kAbort);
  EXPECT_EQ(wire.client_side().ended->reason.message(),
            "server aborted the call: ATTRIB_STATUS_VALUE_NOT_SUPPORTED for attribute "
            "CRYPTO_BINDING (in state Client_Call_Connected)");
  EXPECT_EQ(wire.server_side().ended->reason.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(wire.server_side().ended->reason.message(), HasSubstr("certificate hash"));
}

TEST(BackToBackTest, DifferentHlaksFailTheCompoundMac) {
  Wire wire(TestClientConfig(), VectorCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  wire.Server(wire.server().OnPppAuthenticated(MakeHlak(kSha256Hlak)));
  wire.Client(wire.client().OnPppAuthenticated(MakeHlak(kSha1Hlak)));
  wire.FireServerTimer(TimerId::kAbort);
  EXPECT_THAT(wire.server_side().ended->reason.message(),
              HasSubstr("Compound MAC (SHA256) does not verify"));
}

TEST(BackToBackTest, ServerDisconnects) {
  Wire wire(TestClientConfig(), VectorCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  const Hlak hlak;
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  wire.Server(wire.server().Disconnect());
  ASSERT_TRUE(wire.server_side().ended.has_value());
  EXPECT_TRUE(wire.server_side().ended->reason.ok());
  wire.FireClientTimer(TimerId::kDisconnect);
  ASSERT_TRUE(wire.client_side().ended.has_value());
  EXPECT_TRUE(wire.client_side().ended->reason.ok());
  EXPECT_TRUE(wire.client_side().ended->by_peer);
}

TEST(BackToBackTest, ServerAbortReachesTheClientWithItsStatus) {
  Wire wire(TestClientConfig(), VectorCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  wire.Server(wire.server().Abort(StatusCode::kNegotiationTimeout));
  wire.FireClientTimer(TimerId::kAbort);
  EXPECT_EQ(wire.client_side().ended->reason.message(),
            "server aborted the call: ATTRIB_STATUS_NEGOTIATION_TIMEOUT (in state "
            "Client_Connect_Ack_Received)");
}

TEST(BackToBackTest, EchoBothWaysKeepsTheCallUp) {
  Wire wire(TestClientConfig(), VectorCertificate(), TestConfig(), VectorCertificate());
  wire.Open();
  const Hlak hlak;
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  for (int round = 0; round < 3; ++round) {
    wire.FireClientTimer(TimerId::kHello);  // ECHO_REQUEST, answered.
    wire.FireServerTimer(TimerId::kHello);  // ECHO_REQUEST, answered.
  }
  EXPECT_FALSE(wire.client_side().ended.has_value());
  EXPECT_FALSE(wire.server_side().ended.has_value());
  EXPECT_EQ(
      std::count(wire.client_side().sent.begin(), wire.client_side().sent.end(), "ECHO_RESPONSE"),
      3);
  EXPECT_EQ(
      std::count(wire.server_side().sent.begin(), wire.server_side().sent.end(), "ECHO_RESPONSE"),
      3);
}

TEST(BackToBackTest, ServerThatNeverAnswersEchoIsDroppedAfterTwoIntervals) {
  ServerConfig config = TestConfig();
  config.answer_echo_requests = false;
  Wire wire(TestClientConfig(), VectorCertificate(), config, VectorCertificate());
  wire.Open();
  const Hlak hlak;
  wire.Server(wire.server().OnPppAuthenticated(hlak));
  wire.Client(wire.client().OnPppAuthenticated(hlak));
  wire.FireClientTimer(TimerId::kHello);
  EXPECT_FALSE(wire.client_side().ended.has_value());
  wire.FireClientTimer(TimerId::kHello);
  ASSERT_TRUE(wire.client_side().ended.has_value());
  EXPECT_EQ(wire.client_side().ended->reason.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(wire.client_side().ended->reason.message(),
              HasSubstr("server silent for 2 hello intervals"));
}

}  // namespace
}  // namespace sstp::proto
