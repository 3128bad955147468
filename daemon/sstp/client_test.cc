#include "daemon/sstp/client.h"

#include <algorithm>
#include <array>
#include <memory>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/secret.h"
#include "daemon/sstp/call.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// MS-SSTP 4.7, SHA256 example.
constexpr absl::string_view kSha256Hlak =
    "2A1BB40D55AB0F5EF32F06F2B3CC73C4 8FD3FAC41D7A1315A19228D9024CA164";
constexpr absl::string_view kSha256Nonce =
    "412B489AEBD7ECC7D08966F26BE7CD72 B231A0E9210D7C91B308862B0344C435";
constexpr absl::string_view kSha256CertHash =
    "7993EF314C493DACE9F02D60E7E61C84 B6690AAFE9D7AEEA92CBBE8AD599422D";
constexpr absl::string_view kSha256Mac =
    "52A68EFD8CFFBF52770B8F0FE8EC7371 6583AF6D611EB6D179B3B20840985449";

// MS-SSTP 4.7, SHA1 example (20-byte values, 12 zero bytes of padding on the
// wire).
constexpr absl::string_view kSha1Hlak =
    "4B3128F43925D9006EEFB1C4E86515A1 D88E56BAB3CA2BDF0373B7F5A8A13B19";
constexpr absl::string_view kSha1Nonce =
    "0F1A2D58D4A3E3000FAD3CE4906E07B7 07AA9E441CCEAC5CBD7B2CC1C9D86CDF";
constexpr absl::string_view kSha1CertHash = "5826B629BDA59B8E6FD8DCD2622FD34C 534805A5";
constexpr absl::string_view kSha1Mac = "69915DD583D8062FEF16F61DB2F03290 EC27CB6C";
constexpr absl::string_view kTwelveZeroBytes = "000000000000000000000000";

Hlak MakeHlak(absl::string_view hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  EXPECT_EQ(bytes.size(), Hlak::size());
  Hlak hlak;
  std::copy_n(bytes.begin(), std::min(bytes.size(), Hlak::size()), hlak.data());
  return hlak;
}

// A 32-byte Cert Hash field: the hash, then zero padding.
CryptoBindingField Field(absl::string_view hex) {
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  CryptoBindingField field{};
  std::copy_n(bytes.begin(), std::min(bytes.size(), field.size()), field.begin());
  return field;
}

CertificateHashes VectorCertificate() {
  return CertificateHashes{Field(kSha1CertHash), Field(kSha256CertHash)};
}

ClientConfig TestConfig() {
  ClientConfig config;
  config.logger = Logger("client-test");
  return config;
}

// CALL_CONNECT_ACK built by hand (MS-SSTP 2.2.10): header 10 01 00 30 (48
// bytes), type 00 02, one attribute; CRYPTO_BINDING_REQ 00 04 00 28 (40
// bytes), 3 reserved bytes, the bitmask, the nonce.
std::vector<uint8_t> AckBytes(uint8_t bitmask, absl::string_view nonce_hex) {
  std::vector<uint8_t> bytes = HexOrDie("10010030 00020001 00040028 000000");
  bytes.push_back(bitmask);
  const std::vector<uint8_t> nonce = HexOrDie(nonce_hex);
  bytes.insert(bytes.end(), nonce.begin(), nonce.end());
  return bytes;
}

std::vector<uint8_t> NakBytes() {
  return *EncodeCallConnectNak(
      {StatusInfo{static_cast<uint8_t>(AttributeId::kEncapsulatedProtocolId),
                  StatusCode::kValueNotSupported,
                  {0x00, 0x01}}});
}

// The inputs of the state table: the nine messages, a data packet and a
// malformed packet.
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
      return AckBytes(0x03, kSha256Nonce);
    case Input::kCallConnectNak:
      return NakBytes();
    case Input::kCallConnected: {
      CryptoBinding binding;
      binding.nonce = {1, 2, 3};
      return EncodeCallConnected(binding);
    }
    case Input::kCallAbort:
      return EncodeCallAbort(StatusInfo{
          static_cast<uint8_t>(AttributeId::kCryptoBinding), StatusCode::kValueNotSupported, {}});
    case Input::kCallDisconnect:
      return EncodeCallDisconnect(StatusInfo{kAttribIdNoError, StatusCode::kNoError, {}});
    case Input::kCallDisconnectAck:
      return EncodeCallDisconnectAck();
    case Input::kEchoRequest:
      return EncodeEchoRequest();
    case Input::kEchoResponse:
      return EncodeEchoResponse();
    case Input::kData:
      // An LCP Echo-Request in a data packet (MS-SSTP 2.2.3).
      return HexOrDie("1000000C FF03C021 0901 0004");
    case Input::kMalformed:
      // ECHO_REQUEST with a STATUS_INFO attribute, which 2.2.15 forbids:
      // ATTRIB_NOT_SUPPORTED_IN_MSG for STATUS_INFO.
      return HexOrDie("10010014 00080001 0002000C 00000000 00000000");
  }
  return {};
}

std::string Describe(const Actions& actions) { return DescribeActions(actions); }

// The sent packets, in order.
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

// A client driven into `state` with the messages of the spec.
std::unique_ptr<SstpClient> ClientIn(CallState state, ClientConfig config = TestConfig()) {
  auto client = std::make_unique<SstpClient>(config, VectorCertificate());
  if (state == CallState::kClientCallDisconnected) return client;
  client->Start();
  const Hlak zero_hlak;
  if (state == CallState::kClientConnectAckReceived || state == CallState::kClientCallConnected ||
      state == CallState::kCallDisconnectAckPending ||
      state == CallState::kCallDisconnectTimeoutPending) {
    client->OnPacket(AckBytes(0x03, kSha256Nonce));
  }
  if (state == CallState::kClientCallConnected || state == CallState::kCallDisconnectAckPending ||
      state == CallState::kCallDisconnectTimeoutPending) {
    client->OnPppAuthenticated(zero_hlak);
  }
  if (state == CallState::kCallAbortPending) {
    client->OnPacket(EncodeEchoResponse());  // Unexpected: the client aborts.
  } else if (state == CallState::kCallAbortTimeoutPending) {
    client->OnPacket(InputBytes(Input::kCallAbort));  // The server aborts.
  } else if (state == CallState::kCallDisconnectAckPending) {
    client->Disconnect();
  } else if (state == CallState::kCallDisconnectTimeoutPending) {
    client->OnPacket(InputBytes(Input::kCallDisconnect));
  }
  EXPECT_EQ(client->state(), state);
  return client;
}

// ---------------------------------------------------------------------------
// Every state x every input (MS-SSTP 3.2.5.3, 3.2.7.2, 3.1.5.1), written from
// the spec's rules independently of the code.

struct Cell {
  CallState from;
  Input input;
  CallState to;
  std::string actions;
};

void PrintTo(const Cell& cell, std::ostream* os) {
  *os << CallStateName(cell.from) << " x " << InputName(cell.input);
}

constexpr CallState kDisconnected = CallState::kClientCallDisconnected;
constexpr CallState kRequestSent = CallState::kClientConnectRequestSent;
constexpr CallState kAckReceived = CallState::kClientConnectAckReceived;
constexpr CallState kConnected = CallState::kClientCallConnected;
constexpr CallState kAbortPending = CallState::kCallAbortPending;
constexpr CallState kAbortTimeout = CallState::kCallAbortTimeoutPending;
constexpr CallState kDiscAckPending = CallState::kCallDisconnectAckPending;
constexpr CallState kDiscTimeout = CallState::kCallDisconnectTimeoutPending;

// 3.1.5.1 / "any other value": abort with UNACCEPTED_FRAME_RECEIVED.
const std::string kAbortUnaccepted = "send CALL_ABORT[UNACCEPTED_FRAME_RECEIVED], start Abort 3s";
// 3.2.5.3.1: a packet that fails validation.
const std::string kAbortMalformed =
    "send CALL_ABORT[ATTRIB_NOT_SUPPORTED_IN_MSG/STATUS_INFO], start Abort 3s";
// 3.2.5.3.4 "Else": Call_Abort_In_Progress_2.
const std::string kAnswerAbort = "send CALL_ABORT[NO_ERROR], start Abort 1s";
// 3.2.5.3.5 "Else": Call_Disconnect_In_Progress_2.
const std::string kAnswerDisconnect = "send CALL_DISCONNECT_ACK, start Disconnect 1s";

std::string Stop(absl::string_view timer, absl::string_view rest) {
  return absl::StrCat("stop ", timer, ", ", rest);
}

// Nothing happens: ignored or dropped.
std::vector<Cell> Ignored(CallState state, std::vector<Input> inputs) {
  std::vector<Cell> cells;
  for (Input input : inputs) cells.push_back({state, input, state, ""});
  return cells;
}

std::vector<Cell> Table() {
  using enum Input;
  std::vector<Cell> t = {
      // Client_Call_Disconnected, before Start(): nothing is acceptable.
      {kDisconnected, kCallConnectRequest, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kCallConnectAck, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kCallConnectNak, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kCallConnected, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kCallAbort, kAbortTimeout, kAnswerAbort},
      {kDisconnected, kCallDisconnect, kDiscTimeout, kAnswerDisconnect},
      {kDisconnected, kCallDisconnectAck, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kEchoRequest, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kEchoResponse, kAbortPending, kAbortUnaccepted},
      {kDisconnected, kData, kDisconnected, ""},
      {kDisconnected, kMalformed, kAbortPending, kAbortMalformed},
      // Client_Connect_Request_Sent (negotiation timer running).
      {kRequestSent, kCallConnectRequest, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kRequestSent, kCallConnectAck, kAckReceived, "start Negotiation 1m, ppp-may-start"},
      {kRequestSent, kCallConnectNak, kRequestSent,
       "send CALL_CONNECT_REQUEST, start Negotiation 1m"},
      {kRequestSent, kCallConnected, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kRequestSent, kCallAbort, kAbortTimeout, Stop("Negotiation", kAnswerAbort)},
      {kRequestSent, kCallDisconnect, kDiscTimeout, Stop("Negotiation", kAnswerDisconnect)},
      {kRequestSent, kCallDisconnectAck, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kRequestSent, kEchoRequest, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kRequestSent, kEchoResponse, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kRequestSent, kData, kRequestSent, ""},
      {kRequestSent, kMalformed, kAbortPending, Stop("Negotiation", kAbortMalformed)},
      // Client_Connect_Ack_Received (negotiation timer running).
      {kAckReceived, kCallConnectRequest, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kAckReceived, kCallConnectAck, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kAckReceived, kCallConnectNak, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kAckReceived, kCallConnected, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kAckReceived, kCallAbort, kAbortTimeout, Stop("Negotiation", kAnswerAbort)},
      {kAckReceived, kCallDisconnect, kDiscTimeout, Stop("Negotiation", kAnswerDisconnect)},
      {kAckReceived, kCallDisconnectAck, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      // Leniency over 3.2.5.3.7 (see client.cc): answered.
      {kAckReceived, kEchoRequest, kAckReceived, "send ECHO_RESPONSE"},
      {kAckReceived, kEchoResponse, kAbortPending, Stop("Negotiation", kAbortUnaccepted)},
      {kAckReceived, kData, kAckReceived, ""},
      {kAckReceived, kMalformed, kAbortPending, Stop("Negotiation", kAbortMalformed)},
      // Client_Call_Connected (hello timer running).
      {kConnected, kCallConnectRequest, kAbortPending, Stop("Hello", kAbortUnaccepted)},
      {kConnected, kCallConnectAck, kAbortPending, Stop("Hello", kAbortUnaccepted)},
      {kConnected, kCallConnectNak, kAbortPending, Stop("Hello", kAbortUnaccepted)},
      {kConnected, kCallConnected, kAbortPending, Stop("Hello", kAbortUnaccepted)},
      {kConnected, kCallAbort, kAbortTimeout, Stop("Hello", kAnswerAbort)},
      {kConnected, kCallDisconnect, kDiscTimeout, Stop("Hello", kAnswerDisconnect)},
      {kConnected, kCallDisconnectAck, kAbortPending, Stop("Hello", kAbortUnaccepted)},
      {kConnected, kEchoRequest, kConnected, "start Hello 1m, send ECHO_RESPONSE"},
      {kConnected, kEchoResponse, kConnected, "start Hello 1m"},
      {kConnected, kData, kConnected, ""},
      {kConnected, kMalformed, kAbortPending, Stop("Hello", kAbortMalformed)},
      // Call_Abort_Pending: only the peer's CALL_ABORT matters (3.1.2.1).
      {kAbortPending, kCallAbort, kAbortTimeout, "start Abort 1s"},
      // Call_Disconnect_Ack_Pending (3.2.5.3.4-6).
      {kDiscAckPending, kCallAbort, kAbortTimeout, Stop("Disconnect", kAnswerAbort)},
      {kDiscAckPending, kCallDisconnect, kDiscTimeout, kAnswerDisconnect},
      {kDiscAckPending, kCallDisconnectAck, kDisconnected, "stop Disconnect, ended(OK)"},
  };
  auto add = [&t](std::vector<Cell> cells) { t.insert(t.end(), cells.begin(), cells.end()); };
  add(Ignored(kAbortPending, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                              kCallDisconnect, kCallDisconnectAck, kEchoRequest, kEchoResponse,
                              kData, kMalformed}));
  add(Ignored(kAbortTimeout, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                              kCallAbort, kCallDisconnect, kCallDisconnectAck, kEchoRequest,
                              kEchoResponse, kData, kMalformed}));
  add(Ignored(kDiscAckPending, {kCallConnectRequest, kCallConnectAck, kCallConnectNak,
                                kCallConnected, kEchoRequest, kEchoResponse, kData, kMalformed}));
  add(Ignored(kDiscTimeout, {kCallConnectRequest, kCallConnectAck, kCallConnectNak, kCallConnected,
                             kCallAbort, kCallDisconnect, kCallDisconnectAck, kEchoRequest,
                             kEchoResponse, kData, kMalformed}));
  return t;
}

class ClientStateTableTest : public ::testing::TestWithParam<Cell> {};

TEST_P(ClientStateTableTest, Cell) {
  const Cell& cell = GetParam();
  std::unique_ptr<SstpClient> client = ClientIn(cell.from);
  const Actions actions = client->OnPacket(InputBytes(cell.input));
  EXPECT_EQ(Describe(actions), cell.actions);
  EXPECT_EQ(client->state(), cell.to) << CallStateName(client->state());
}

INSTANTIATE_TEST_SUITE_P(AllStatesAllInputs, ClientStateTableTest, ::testing::ValuesIn(Table()));

TEST(ClientStateTableCoverageTest, EveryStateTimesEveryInput) {
  const std::vector<Cell> table = Table();
  EXPECT_EQ(table.size(), 8u * 11u);
  for (CallState state : {kDisconnected, kRequestSent, kAckReceived, kConnected, kAbortPending,
                          kAbortTimeout, kDiscAckPending, kDiscTimeout}) {
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
// Call establishment.

TEST(SstpClientTest, HappyPathSha256IsByteExactForMsSstp47) {
  SstpClient client(TestConfig(), VectorCertificate());
  EXPECT_EQ(client.state(), kDisconnected);
  const Actions start = client.Start();
  EXPECT_EQ(Describe(start), "send CALL_CONNECT_REQUEST, start Negotiation 1m");
  // MS-SSTP 2.2.9 / 4.7.
  EXPECT_EQ(Sent(start).at(0), HexOrDie("10 01 00 0E 00 01 00 01 00 01 00 06 00 01"));
  EXPECT_EQ(client.state(), kRequestSent);
  EXPECT_FALSE(client.ppp_control_allowed());

  const Actions ack = client.OnPacket(AckBytes(0x02, kSha256Nonce));
  EXPECT_EQ(Describe(ack), "start Negotiation 1m, ppp-may-start");
  EXPECT_EQ(client.negotiated_hash(), HashProtocol::kSha256);
  EXPECT_TRUE(client.ppp_control_allowed());
  EXPECT_FALSE(client.data_allowed());

  const Actions connected = client.OnPppAuthenticated(MakeHlak(kSha256Hlak));
  EXPECT_EQ(Describe(connected),
            "stop Negotiation, send CALL_CONNECTED, start Hello 1m, call-connected");
  // MS-SSTP 4.7: the whole CALL_CONNECTED message with the published MAC.
  EXPECT_EQ(Sent(connected).at(0),
            HexOrDie(absl::StrCat("10010070 00040001 00030068 00000002", kSha256Nonce,
                                  kSha256CertHash, kSha256Mac)));
  EXPECT_EQ(client.state(), kConnected);
  EXPECT_TRUE(client.data_allowed());
  EXPECT_TRUE(client.ppp_control_allowed());
}

TEST(SstpClientTest, Sha1OnlyServerIsByteExactForMsSstp47) {
  SstpClient client(TestConfig(), VectorCertificate());
  client.Start();
  EXPECT_EQ(Describe(client.OnPacket(AckBytes(0x01, kSha1Nonce))),
            "start Negotiation 1m, ppp-may-start");
  EXPECT_EQ(client.negotiated_hash(), HashProtocol::kSha1);
  const Actions connected = client.OnPppAuthenticated(MakeHlak(kSha1Hlak));
  // MS-SSTP 4.7 SHA1: 20-byte cert hash and MAC, each padded with 12 zeros.
  EXPECT_EQ(Sent(connected).at(0),
            HexOrDie(absl::StrCat("10010070 00040001 00030068 00000001", kSha1Nonce, kSha1CertHash,
                                  kTwelveZeroBytes, kSha1Mac, kTwelveZeroBytes)));
  EXPECT_EQ(client.state(), kConnected);
}

TEST(SstpClientTest, PrefersSha256WhenBothOffered) {
  SstpClient client(TestConfig(), VectorCertificate());
  client.Start();
  client.OnPacket(AckBytes(0x03, kSha256Nonce));
  EXPECT_EQ(client.negotiated_hash(), HashProtocol::kSha256);
}

TEST(SstpClientTest, ClientLimitedToSha1PicksSha1FromBoth) {
  ClientConfig config = TestConfig();
  config.hash_protocols = kHashBitmaskSha1;
  SstpClient client(config, VectorCertificate());
  client.Start();
  client.OnPacket(AckBytes(0x03, kSha1Nonce));
  EXPECT_EQ(client.negotiated_hash(), HashProtocol::kSha1);
  const Actions connected = client.OnPppAuthenticated(MakeHlak(kSha1Hlak));
  EXPECT_EQ(Sent(connected).at(0),
            HexOrDie(absl::StrCat("10010070 00040001 00030068 00000001", kSha1Nonce, kSha1CertHash,
                                  kTwelveZeroBytes, kSha1Mac, kTwelveZeroBytes)));
}

TEST(SstpClientTest, AckWithoutASupportedHashAbortsWithValueNotSupported) {
  ClientConfig config = TestConfig();
  config.hash_protocols = kHashBitmaskSha256;
  SstpClient client(config, VectorCertificate());
  client.Start();
  const Actions actions = client.OnPacket(AckBytes(0x01, kSha1Nonce));
  EXPECT_EQ(Describe(actions),
            "stop Negotiation, send CALL_ABORT[VALUE_NOT_SUPPORTED/CRYPTO_BINDING_REQ], "
            "start Abort 3s");
  // MS-SSTP 2.2.8: AttribValue is the refused attribute's value.
  absl::StatusOr<Packet> abort = ParsePacket(Sent(actions).at(0));
  ASSERT_TRUE(abort.ok()) << abort.status();
  EXPECT_EQ(abort->control()->status_info.at(0).value,
            HexOrDie(absl::StrCat("00000001", kSha1Nonce)));
  EXPECT_FALSE(client.negotiated_hash().has_value());
  EXPECT_FALSE(client.ppp_control_allowed());
  const Actions ended = client.OnTimer(TimerId::kAbort);
  ASSERT_NE(Ended(ended), nullptr);
  EXPECT_EQ(Ended(ended)->reason.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("CALL_CONNECT_ACK offers hash protocol bitmask 0x01 but this "
                        "client accepts only 0x02"));
  EXPECT_FALSE(Ended(ended)->by_peer);
}

TEST(SstpClientTest, NakRetriesThenSucceeds) {
  SstpClient client(TestConfig(), VectorCertificate());
  client.Start();
  for (int i = 1; i <= 2; ++i) {
    const Actions retry = client.OnPacket(NakBytes());
    EXPECT_EQ(Describe(retry), "send CALL_CONNECT_REQUEST, start Negotiation 1m");
    EXPECT_EQ(Sent(retry).at(0), EncodeCallConnectRequest());
    EXPECT_EQ(client.naks_received(), i);
    EXPECT_EQ(client.state(), kRequestSent);
  }
  EXPECT_EQ(Describe(client.OnPacket(AckBytes(0x02, kSha256Nonce))),
            "start Negotiation 1m, ppp-may-start");
  client.OnPppAuthenticated(MakeHlak(kSha256Hlak));
  EXPECT_EQ(client.state(), kConnected);
}

TEST(SstpClientTest, NakBeyondTheRetryLimitAbortsNamingTheServersStatus) {
  SstpClient client(TestConfig(), VectorCertificate());
  client.Start();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Describe(client.OnPacket(NakBytes())),
              "send CALL_CONNECT_REQUEST, start Negotiation 1m");
  }
  // MS-SSTP 3.2.5.3.3, <10>: Windows retries 3 times; the 4th NAK aborts.
  EXPECT_EQ(Describe(client.OnPacket(NakBytes())),
            "stop Negotiation, send CALL_ABORT[RETRY_COUNT_EXCEEDED/STATUS_INFO], "
            "start Abort 3s");
  EXPECT_EQ(client.state(), kAbortPending);
  // The server answers the abort; T2 then ends the call.
  EXPECT_EQ(Describe(client.OnPacket(InputBytes(Input::kCallAbort))), "start Abort 1s");
  const Actions ended = client.OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(UNAVAILABLE)");
  EXPECT_EQ(Ended(ended)->reason.message(),
            "server refused CALL_CONNECT_REQUEST 4 times (retry limit 3); last "
            "CALL_CONNECT_NAK: ATTRIB_STATUS_VALUE_NOT_SUPPORTED for attribute "
            "ENCAPSULATED_PROTOCOL_ID");
  EXPECT_EQ(client.state(), kDisconnected);
  EXPECT_TRUE(client.ended());
}

TEST(SstpClientTest, RetryLimitZeroAbortsOnTheFirstNak) {
  ClientConfig config = TestConfig();
  config.nak_retry_limit = 0;
  SstpClient client(config, VectorCertificate());
  client.Start();
  EXPECT_EQ(Describe(client.OnPacket(NakBytes())),
            "stop Negotiation, send CALL_ABORT[RETRY_COUNT_EXCEEDED/STATUS_INFO], "
            "start Abort 3s");
}

TEST(SstpClientTest, PppAuthenticationOutsideAckReceivedIsIgnored) {
  for (CallState state : {kDisconnected, kRequestSent, kConnected, kAbortPending, kAbortTimeout,
                          kDiscAckPending, kDiscTimeout}) {
    std::unique_ptr<SstpClient> client = ClientIn(state);
    EXPECT_THAT(client->OnPppAuthenticated(Hlak()), IsEmpty()) << CallStateName(state);
    EXPECT_EQ(client->state(), state);
  }
}

TEST(SstpClientTest, StartOnlyOnce) {
  SstpClient client(TestConfig(), VectorCertificate());
  client.Start();
  EXPECT_THAT(client.Start(), IsEmpty());
  EXPECT_EQ(client.state(), kRequestSent);
}

TEST(SstpClientTest, PppFramePermissionsPerState) {
  struct Expect {
    CallState state;
    bool control;
    bool data;
  };
  // MS-SSTP 3.2.7.1 / 3.2.7.2.
  for (const Expect& e : std::vector<Expect>{{kDisconnected, false, false},
                                             {kRequestSent, false, false},
                                             {kAckReceived, true, false},
                                             {kConnected, true, true},
                                             {kAbortPending, false, false},
                                             {kAbortTimeout, false, false},
                                             {kDiscAckPending, false, false},
                                             {kDiscTimeout, false, false}}) {
    std::unique_ptr<SstpClient> client = ClientIn(e.state);
    EXPECT_EQ(client->ppp_control_allowed(), e.control) << CallStateName(e.state);
    EXPECT_EQ(client->data_allowed(), e.data) << CallStateName(e.state);
  }
}

// ---------------------------------------------------------------------------
// Timers (MS-SSTP 3.1.6, 3.2.6).

TEST(SstpClientTimerTest, NegotiationTimeoutWaitingForAck) {
  std::unique_ptr<SstpClient> client = ClientIn(kRequestSent);
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kNegotiation)),
            "send CALL_ABORT[NEGOTIATION_TIMEOUT], start Abort 3s");
  EXPECT_EQ(client->state(), kAbortPending);
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(DEADLINE_EXCEEDED)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("no CALL_CONNECT_ACK from the server within 1m of "
                        "CALL_CONNECT_REQUEST (negotiation timer, state "
                        "Client_Connect_Request_Sent)"));
}

TEST(SstpClientTimerTest, NegotiationTimeoutWaitingForPppAuthentication) {
  std::unique_ptr<SstpClient> client = ClientIn(kAckReceived);
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kNegotiation)),
            "send CALL_ABORT[NEGOTIATION_TIMEOUT], start Abort 3s");
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("PPP authentication did not complete within 1m of "
                        "CALL_CONNECT_ACK"));
}

TEST(SstpClientTimerTest, ConfiguredNegotiationTimeoutIsUsed) {
  ClientConfig config = TestConfig();
  config.negotiation_timeout = absl::Seconds(20);
  config.hello_interval = absl::Seconds(30);
  SstpClient client(config, VectorCertificate());
  EXPECT_EQ(Describe(client.Start()), "send CALL_CONNECT_REQUEST, start Negotiation 20s");
  EXPECT_EQ(Describe(client.OnPacket(AckBytes(0x02, kSha256Nonce))),
            "start Negotiation 20s, ppp-may-start");
  EXPECT_EQ(Describe(client.OnPppAuthenticated(Hlak())),
            "stop Negotiation, send CALL_CONNECTED, start Hello 30s, call-connected");
}

TEST(SstpClientTimerTest, AbortTimer1EndsWithOwnReason) {
  std::unique_ptr<SstpClient> client = ClientIn(kRequestSent);
  client->OnPacket(EncodeEchoResponse());
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(FAILED_PRECONDITION)");
  EXPECT_EQ(Ended(ended)->reason.message(),
            "unexpected ECHO_RESPONSE from the server in state "
            "Client_Connect_Request_Sent");
  EXPECT_EQ(client->state(), kDisconnected);
}

TEST(SstpClientTimerTest, AbortTimer2EndsWithTheServersStatus) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  client->OnPacket(InputBytes(Input::kCallAbort));
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(ABORTED, by peer)");
  EXPECT_EQ(Ended(ended)->reason.message(),
            "server aborted the call: ATTRIB_STATUS_VALUE_NOT_SUPPORTED for "
            "attribute CRYPTO_BINDING (in state Client_Call_Connected)");
}

TEST(SstpClientTimerTest, ServerAbortWithoutStatusInfo) {
  std::unique_ptr<SstpClient> client = ClientIn(kAckReceived);
  client->OnPacket(EncodeCallAbort(std::nullopt));
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_EQ(Ended(ended)->reason.message(),
            "server aborted the call: no STATUS_INFO (in state "
            "Client_Connect_Ack_Received)");
}

TEST(SstpClientTimerTest, DisconnectTimer1WithoutAckStillEndsOk) {
  std::unique_ptr<SstpClient> client = ClientIn(kDiscAckPending);
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kDisconnect)), "ended(OK)");
  EXPECT_EQ(client->state(), kDisconnected);
}

TEST(SstpClientTimerTest, DisconnectTimer2AfterServerDisconnect) {
  std::unique_ptr<SstpClient> client = ClientIn(kDiscTimeout);
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kDisconnect)), "ended(OK, by peer)");
}

TEST(SstpClientTimerTest, ServerDisconnectWithAnErrorStatusIsReported) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  client->OnPacket(
      EncodeCallDisconnect(StatusInfo{kAttribIdNoError, StatusCode::kNegotiationTimeout, {}}));
  const Actions ended = client->OnTimer(TimerId::kDisconnect);
  EXPECT_EQ(Describe(ended), "ended(UNAVAILABLE, by peer)");
  EXPECT_EQ(Ended(ended)->reason.message(),
            "server disconnected the call: ATTRIB_STATUS_NEGOTIATION_TIMEOUT (in "
            "state Client_Call_Connected)");
}

TEST(SstpClientTimerTest, HelloSendsEchoThenEndsAfterTwoSilentIntervals) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  // MS-SSTP 3.1.6.3: on expiry, an ECHO_REQUEST.
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kHello)), "send ECHO_REQUEST, start Hello 1m");
  // 3.1.2.3: nothing in the next interval: abort without a CALL_ABORT.
  const Actions ended = client->OnTimer(TimerId::kHello);
  EXPECT_EQ(Describe(ended), "ended(DEADLINE_EXCEEDED)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("server silent for 2 hello intervals (2m)"));
  EXPECT_THAT(Sent(ended), IsEmpty());
}

TEST(SstpClientTimerTest, EchoResponseKeepsTheCallAlive) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  client->OnTimer(TimerId::kHello);
  EXPECT_EQ(Describe(client->OnPacket(EncodeEchoResponse())), "start Hello 1m");
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kHello)), "send ECHO_REQUEST, start Hello 1m");
  EXPECT_EQ(client->state(), kConnected);
}

TEST(SstpClientTimerTest, DataTrafficReplacesTheEcho) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  client->OnDataReceived();
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kHello)), "start Hello 1m");
  // A data packet through OnPacket() counts too.
  client->OnTimer(TimerId::kHello);  // ECHO_REQUEST goes out.
  EXPECT_THAT(client->OnPacket(InputBytes(Input::kData)), IsEmpty());
  EXPECT_EQ(Describe(client->OnTimer(TimerId::kHello)), "start Hello 1m");
  EXPECT_EQ(client->state(), kConnected);
}

// A timer expiry for a timer that does not run (already stopped, or never
// started in that state) is stale and ignored.
TEST(SstpClientTimerTest, TimersThatDoNotRunAreIgnoredInEveryState) {
  struct Running {
    CallState state;
    std::vector<TimerId> running;
  };
  const std::vector<Running> states = {
      {kDisconnected, {}},
      {kRequestSent, {TimerId::kNegotiation}},
      {kAckReceived, {TimerId::kNegotiation}},
      {kConnected, {TimerId::kHello}},
      {kAbortPending, {TimerId::kAbort}},
      {kAbortTimeout, {TimerId::kAbort}},
      {kDiscAckPending, {TimerId::kDisconnect}},
      {kDiscTimeout, {TimerId::kDisconnect}},
  };
  for (const Running& r : states) {
    for (TimerId id :
         {TimerId::kNegotiation, TimerId::kHello, TimerId::kAbort, TimerId::kDisconnect}) {
      if (std::find(r.running.begin(), r.running.end(), id) != r.running.end()) {
        continue;
      }
      std::unique_ptr<SstpClient> client = ClientIn(r.state);
      EXPECT_THAT(client->OnTimer(id), IsEmpty())
          << CallStateName(r.state) << " " << TimerIdName(id);
      EXPECT_EQ(client->state(), r.state);
    }
  }
}

// ---------------------------------------------------------------------------
// Disconnect, transport, framing.

TEST(SstpClientTest, UserDisconnectSendsNoErrorAndWaitsForTheAck) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  EXPECT_EQ(Describe(client->Disconnect()),
            "stop Hello, send CALL_DISCONNECT[NO_ERROR], start Disconnect 5s");
  EXPECT_EQ(client->state(), kDiscAckPending);
  EXPECT_FALSE(client->data_allowed());
  EXPECT_THAT(client->Disconnect(), IsEmpty());  // Already going down.
  EXPECT_EQ(Describe(client->OnPacket(EncodeCallDisconnectAck())), "stop Disconnect, ended(OK)");
  EXPECT_TRUE(client->ended());
}

TEST(SstpClientTest, DisconnectDuringSetupIsAllowedFromEveryState) {
  // MS-SSTP 3.2.4.2: "irrespective of the current state".
  for (CallState state : {kRequestSent, kAckReceived}) {
    std::unique_ptr<SstpClient> client = ClientIn(state);
    EXPECT_EQ(Describe(client->Disconnect()),
              "stop Negotiation, send CALL_DISCONNECT[NO_ERROR], start Disconnect 5s");
  }
  for (CallState state : {kAbortPending, kAbortTimeout, kDiscTimeout}) {
    std::unique_ptr<SstpClient> client = ClientIn(state);
    EXPECT_THAT(client->Disconnect(), IsEmpty()) << CallStateName(state);
    EXPECT_EQ(client->state(), state);
  }
}

TEST(SstpClientTest, DisconnectBeforeStartEndsAtOnce) {
  SstpClient client(TestConfig(), VectorCertificate());
  EXPECT_EQ(Describe(client.Disconnect()), "ended(OK)");
  EXPECT_TRUE(client.ended());
  EXPECT_THAT(client.Start(), IsEmpty());
}

TEST(SstpClientTest, TransportClosedEndsTheCall) {
  std::unique_ptr<SstpClient> client = ClientIn(kAckReceived);
  const Actions ended = client->OnTransportClosed();
  EXPECT_EQ(Describe(ended), "stop Negotiation, ended(UNAVAILABLE, by peer)");
  EXPECT_EQ(Ended(ended)->reason.message(),
            "transport closed in state Client_Connect_Ack_Received");
  EXPECT_THAT(client->OnTransportClosed(), IsEmpty());
}

TEST(SstpClientTest, TransportClosedCompletesAnAbortInProgress) {
  std::unique_ptr<SstpClient> client = ClientIn(kAbortPending);
  const Actions ended = client->OnTransportClosed();
  EXPECT_EQ(Describe(ended), "stop Abort, ended(FAILED_PRECONDITION)");
  EXPECT_THAT(Ended(ended)->reason.message(), HasSubstr("unexpected ECHO_RESPONSE"));
}

TEST(SstpClientTest, TransportClosedDuringOwnDisconnectIsOk) {
  std::unique_ptr<SstpClient> client = ClientIn(kDiscAckPending);
  EXPECT_EQ(Describe(client->OnTransportClosed()), "stop Disconnect, ended(OK)");
}

TEST(SstpClientTest, UndelineablePacketEndsWithoutSendingAnything) {
  // MS-SSTP 3.1.5.1: version 1.1 cannot be delineated.
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  const Actions ended = client->OnPacket(HexOrDie("11010008 00080000"));
  EXPECT_EQ(Describe(ended), "stop Hello, ended(INVALID_ARGUMENT)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("SSTP stream from the server cannot be delineated in state "
                        "Client_Call_Connected"));
}

TEST(SstpClientTest, PacketShorterThanItsLengthFieldIsAFramingError) {
  std::unique_ptr<SstpClient> client = ClientIn(kRequestSent);
  const Actions ended = client->OnPacket(HexOrDie("10010010 00080000"));
  EXPECT_EQ(Describe(ended), "stop Negotiation, ended(INVALID_ARGUMENT)");
  EXPECT_THAT(Ended(ended)->reason.message(), HasSubstr("SSTP length field 16 != 8 bytes given"));
}

TEST(SstpClientTest, MalformedPacketReasonQuotesTheParser) {
  std::unique_ptr<SstpClient> client = ClientIn(kRequestSent);
  client->OnPacket(InputBytes(Input::kMalformed));
  const Actions ended = client->OnTimer(TimerId::kAbort);
  EXPECT_EQ(Describe(ended), "ended(INVALID_ARGUMENT)");
  EXPECT_THAT(Ended(ended)->reason.message(),
              HasSubstr("malformed packet from the server in state "
                        "Client_Connect_Request_Sent: SSTP ECHO_REQUEST: attribute "
                        "STATUS_INFO not allowed in this message"));
}

TEST(SstpClientTest, ReservedBitsAreIgnored) {
  std::unique_ptr<SstpClient> client = ClientIn(kConnected);
  // ECHO_REQUEST with a reserved bit set in the header (MS-SSTP 2.2.1).
  EXPECT_EQ(Describe(client->OnPacket(HexOrDie("10030008 00080000"))),
            "start Hello 1m, send ECHO_RESPONSE");
}

TEST(SstpClientTest, EventsAfterTheEndAreIgnored) {
  std::unique_ptr<SstpClient> client = ClientIn(kDiscAckPending);
  client->OnPacket(EncodeCallDisconnectAck());
  ASSERT_TRUE(client->ended());
  EXPECT_THAT(client->OnPacket(EncodeEchoRequest()), IsEmpty());
  EXPECT_THAT(client->OnPacket(InputBytes(Input::kCallAbort)), IsEmpty());
  EXPECT_THAT(client->OnTimer(TimerId::kDisconnect), IsEmpty());
  EXPECT_THAT(client->Disconnect(), IsEmpty());
  EXPECT_THAT(client->OnPppAuthenticated(Hlak()), IsEmpty());
  EXPECT_THAT(client->OnTransportClosed(), IsEmpty());
  EXPECT_EQ(client->state(), kDisconnected);
}

// ---------------------------------------------------------------------------
// Logging and helpers.

class CapturingSink : public LogSink {
 public:
  void Write(LogLevel level, absl::string_view, absl::string_view message) override {
    if (level == LogLevel::kInfo) lines.emplace_back(message);
  }
  std::vector<std::string> lines;
};

TEST(SstpClientLogTest, EveryStateChangeIsLoggedOldToNew) {
  CapturingSink sink;
  LogSink* previous_sink = SetLogSink(&sink);
  const LogLevel previous_level = GetLogLevel();
  SetLogLevel(LogLevel::kInfo);
  {
    SstpClient client(TestConfig(), VectorCertificate());
    client.Start();
    client.OnPacket(EncodeEchoResponse());
  }
  SetLogSink(previous_sink);
  SetLogLevel(previous_level);
  EXPECT_THAT(sink.lines, ::testing::IsSupersetOf(
                              {"SSTP Client_Call_Disconnected -> Client_Connect_Request_Sent",
                               "SSTP Client_Connect_Request_Sent -> Call_Abort_In_Progress_1",
                               "SSTP Call_Abort_In_Progress_1 -> Call_Abort_Pending"}));
}

TEST(CallHelpersTest, StateAndTimerNamesFollowTheSpec) {
  EXPECT_EQ(CallStateName(CallState::kClientConnectAckReceived), "Client_Connect_Ack_Received");
  EXPECT_EQ(CallStateName(CallState::kServerCallConnectedPending), "Server_Call_Connected_Pending");
  EXPECT_EQ(CallStateName(CallState::kCallDisconnectTimeoutPending),
            "Call_Disconnect_Timeout_Pending");
  EXPECT_EQ(TimerIdName(TimerId::kDisconnect), "Disconnect");
}

TEST(CallHelpersTest, FormatStatusInfo) {
  EXPECT_EQ(FormatStatusInfo(StatusInfo{2, StatusCode::kRetryCountExceeded, {}}),
            "ATTRIB_STATUS_RETRY_COUNT_EXCEEDED for attribute STATUS_INFO");
  EXPECT_EQ(FormatStatusInfo(StatusInfo{0, StatusCode::kNoError, {}}), "ATTRIB_STATUS_NO_ERROR");
  EXPECT_EQ(FormatStatusInfo(StatusInfo{9, static_cast<StatusCode>(0x42), {}}),
            "ATTRIB_STATUS_UNKNOWN (0x00000042) for attribute UNKNOWN (9)");
}

TEST(CallHelpersTest, DescribeActions) {
  Actions actions;
  actions.push_back(SendPacket{*EncodeDataPacket(HexOrDie("FF03C021"))});
  actions.push_back(SendPacket{HexOrDie("1001")});
  actions.push_back(StopTimer{TimerId::kHello});
  actions.push_back(StartTimer{TimerId::kAbort, absl::Milliseconds(1500)});
  actions.push_back(PppMayStart{});
  actions.push_back(CallConnected{});
  actions.push_back(CallEnded{absl::AbortedError("x"), true});
  EXPECT_EQ(DescribeActions(actions),
            "send data(4), send bytes(2), stop Hello, start Abort 1.5s, "
            "ppp-may-start, call-connected, ended(ABORTED, by peer)");
}

}  // namespace
}  // namespace sstp::proto
