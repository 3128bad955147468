#include "daemon/ppp/options.h"

#include <cstdint>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include "base/hex.h"
#include "daemon/ppp/frame.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::ppp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Test bytes that live until the program ends, so that the views a parser
// returns into them stay valid for the whole test.
const std::vector<uint8_t>& Hex(absl::string_view hex) {
  static auto* storage = new std::deque<std::vector<uint8_t>>();
  storage->push_back(HexOrDie(hex));
  return storage->back();
}

Option MakeOption(uint8_t type, const std::vector<uint8_t>& value) {
  return Option{type, value};
}

// --- Generic list
// -------------------------------------------------------------

TEST(OptionsTest, ParsesOptionList) {
  const std::vector<uint8_t> data = Hex("0104 05dc 0702 0506 01020304");
  absl::StatusOr<std::vector<Option>> options = ParseOptions(data);
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->size(), 3u);
  EXPECT_EQ((*options)[0].type, 1);
  EXPECT_THAT((*options)[0].value, ElementsAre(0x05, 0xdc));
  EXPECT_EQ((*options)[1].type, 7);
  EXPECT_TRUE((*options)[1].value.empty());
  EXPECT_EQ((*options)[2].type, 5);
  EXPECT_THAT((*options)[2].value, ElementsAre(1, 2, 3, 4));
}

TEST(OptionsTest, EmptyListIsValid) {
  absl::StatusOr<std::vector<Option>> options = ParseOptions({});
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->empty());
}

TEST(OptionsTest, RejectsMalformedLists) {
  struct Case {
    const char* hex;
    const char* error;
  } cases[] = {
      {"0702 05", "option 5 at offset 2 truncated: type without Length"},
      {"0101", "option 1 at offset 0 length 1 < 2"},
      {"0300", "option 3 at offset 0 length 0 < 2"},
      {"0306 c023",
       "option 3 at offset 0 length 6 runs past the data (4 "
       "octets left)"},
      {"0702 0506 0102",
       "option 5 at offset 2 length 6 runs past the data "
       "(4 octets left)"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<Option>> options = ParseOptions(Hex(c.hex));
    ASSERT_FALSE(options.ok()) << c.hex;
    EXPECT_EQ(options.status().message(), c.error) << c.hex;
  }
}

TEST(OptionsTest, EncodeOptionsIsTheInverseOfParse) {
  const std::vector<uint8_t> data = Hex("0104 05dc 0702 0d03 06");
  absl::StatusOr<std::vector<Option>> options = ParseOptions(data);
  ASSERT_TRUE(options.ok());
  absl::StatusOr<std::vector<uint8_t>> encoded = EncodeOptions(*options);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, data);
}

TEST(OptionsTest, BuilderRejectsOversizedValueAndSticks) {
  const std::vector<uint8_t> max(kMaxOptionValueSize, 0xab);
  absl::StatusOr<std::vector<uint8_t>> ok =
      OptionListBuilder().Add(1, max).Build();
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 255u);
  EXPECT_EQ((*ok)[1], 255);

  const std::vector<uint8_t> big(kMaxOptionValueSize + 1);
  absl::StatusOr<std::vector<uint8_t>> bad =
      OptionListBuilder().AddU16(1, 1500).Add(9, big).AddU32(5, 1).Build();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "option 9 value of 254 octets exceeds 253 (Length is one octet)");
}

TEST(OptionsTest, BuilderIntegers) {
  absl::StatusOr<std::vector<uint8_t>> data =
      OptionListBuilder().AddU16(1, 0x0FFB).AddU32(5, 0xDEADBEEF).Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ToHex(*data), "01040ffb0506deadbeef");
}

// --- LCP
// ----------------------------------------------------------------------

template <typename T>
T ParseLcpAs(uint8_t type, const std::vector<uint8_t>& value) {
  absl::StatusOr<LcpOption> option = ParseLcpOption(MakeOption(type, value));
  EXPECT_TRUE(option.ok()) << option.status();
  if (!option.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*option));
  if (!std::holds_alternative<T>(*option)) return T{};
  return std::get<T>(*option);
}

std::string LcpError(uint8_t type, const char* hex) {
  absl::StatusOr<LcpOption> option = ParseLcpOption(Option{type, Hex(hex)});
  if (option.ok()) return "unexpectedly OK";
  return std::string(option.status().message());
}

TEST(LcpOptionsTest, ParsesFixedSizeOptions) {
  EXPECT_EQ(ParseLcpAs<MruOption>(1, Hex("0ffb")).mru, 4091);
  EXPECT_EQ(ParseLcpAs<AccmOption>(2, Hex("000a0000")).accm, 0x000A0000u);
  EXPECT_EQ(ParseLcpAs<MagicNumberOption>(5, Hex("2d6e1ab9")).magic_number,
            0x2d6e1ab9u);
  // RFC 1661 6.4: zero decodes; the caller Naks it.
  EXPECT_EQ(ParseLcpAs<MagicNumberOption>(5, Hex("00000000")).magic_number, 0u);
  ParseLcpAs<ProtocolFieldCompressionOption>(7, {});
  ParseLcpAs<AddressAndControlFieldCompressionOption>(8, {});
  EXPECT_EQ(ParseLcpAs<MrruOption>(17, Hex("064e")).mrru, 1614);
}

TEST(LcpOptionsTest, RejectsWrongLengths) {
  EXPECT_EQ(LcpError(1, "05"), "LCP option MRU (1) length 3 != 4");
  EXPECT_EQ(LcpError(1, "05dc00"), "LCP option MRU (1) length 5 != 4");
  EXPECT_EQ(LcpError(2, "000000"), "LCP option ACCM (2) length 5 != 6");
  EXPECT_EQ(LcpError(3, "c0"),
            "LCP option Authentication-Protocol (3) length 3 < 4");
  EXPECT_EQ(LcpError(4, "c0"), "LCP option Quality-Protocol (4) length 3 < 4");
  EXPECT_EQ(LcpError(5, "0102030405"),
            "LCP option Magic-Number (5) length 7 != 6");
  EXPECT_EQ(LcpError(7, "00"), "LCP option PFC (7) length 3 != 2");
  EXPECT_EQ(LcpError(8, "00"), "LCP option ACFC (8) length 3 != 2");
  EXPECT_EQ(LcpError(13, ""), "LCP option Callback (13) length 2 < 3");
  EXPECT_EQ(LcpError(17, "06"), "LCP option MRRU (17) length 3 != 4");
  EXPECT_EQ(LcpError(19, ""),
            "LCP option Endpoint-Discriminator (19) length 2 < 3");
}

TEST(LcpOptionsTest, AuthenticationProtocolKnownValues) {
  struct Case {
    const char* hex;
    AuthProtocol expected;
  } cases[] = {
      {"c023", AuthProtocol::kPap},
      {"c22305", AuthProtocol::kChapMd5},
      {"c22381", AuthProtocol::kMsChapV2},
      {"c227", AuthProtocol::kEap},
  };
  for (const Case& c : cases) {
    AuthProtocolOption auth = ParseLcpAs<AuthProtocolOption>(3, Hex(c.hex));
    ASSERT_TRUE(auth.known.has_value()) << c.hex;
    EXPECT_EQ(*auth.known, c.expected) << c.hex;
    // MakeAuthProtocolOption builds the same value, and encodes to it.
    EXPECT_EQ(MakeAuthProtocolOption(c.expected), auth) << c.hex;
    absl::StatusOr<std::vector<uint8_t>> encoded =
        OptionListBuilder().AddLcp(MakeAuthProtocolOption(c.expected)).Build();
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(ToHex(*encoded).substr(4), c.hex);
  }
}

TEST(LcpOptionsTest, AuthenticationProtocolValueHelpers) {
  EXPECT_EQ(ToHex(EncodeAuthProtocolValue(AuthProtocol::kPap)), "c023");
  EXPECT_EQ(ToHex(EncodeAuthProtocolValue(AuthProtocol::kChapMd5)), "c22305");
  EXPECT_EQ(ToHex(EncodeAuthProtocolValue(AuthProtocol::kMsChapV2)), "c22381");
  EXPECT_EQ(ToHex(EncodeAuthProtocolValue(AuthProtocol::kEap)), "c227");
  for (AuthProtocol protocol : {AuthProtocol::kPap, AuthProtocol::kChapMd5,
                                AuthProtocol::kMsChapV2, AuthProtocol::kEap}) {
    const std::vector<uint8_t> value = EncodeAuthProtocolValue(protocol);
    absl::StatusOr<AuthProtocolOption> parsed = ParseAuthProtocolValue(value);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->known, protocol);
  }
  absl::StatusOr<AuthProtocolOption> bad = ParseAuthProtocolValue(Hex("c2"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "LCP option Authentication-Protocol (3) length 3 < 4");
}

TEST(LcpOptionsTest, AuthenticationProtocolUnimplementedValuesParse) {
  // MS-CHAPv1 (RFC 2433) is well-formed but not implemented: Nak it.
  AuthProtocolOption v1 = ParseLcpAs<AuthProtocolOption>(3, Hex("c22380"));
  EXPECT_EQ(v1.protocol, kProtocolChap);
  EXPECT_THAT(v1.data, ElementsAre(kChapAlgorithmMsChapV1));
  EXPECT_FALSE(v1.known.has_value());
  // SPAP (0xC027) with arbitrary data.
  AuthProtocolOption spap = ParseLcpAs<AuthProtocolOption>(3, Hex("c027 0102"));
  EXPECT_EQ(spap.protocol, 0xC027);
  EXPECT_THAT(spap.data, ElementsAre(1, 2));
  EXPECT_FALSE(spap.known.has_value());
}

TEST(LcpOptionsTest, AuthenticationProtocolMalformed) {
  EXPECT_EQ(LcpError(3, "c223"),
            "LCP option Authentication-Protocol (3) for CHAP length 4 != 5");
  EXPECT_EQ(LcpError(3, "c2238181"),
            "LCP option Authentication-Protocol (3) for CHAP length 6 != 5");
  EXPECT_EQ(LcpError(3, "c02300"),
            "LCP option Authentication-Protocol (3) for PAP length 5 != 4");
  EXPECT_EQ(LcpError(3, "c22700"),
            "LCP option Authentication-Protocol (3) for EAP length 5 != 4");
}

TEST(LcpOptionsTest, QualityCallbackEndpointDiscriminator) {
  QualityProtocolOption lqr =
      ParseLcpAs<QualityProtocolOption>(4, Hex("c025 000003e8"));
  EXPECT_EQ(lqr.protocol, kProtocolLqr);
  EXPECT_THAT(lqr.data, ElementsAre(0, 0, 3, 0xe8));

  CallbackOption cbcp = ParseLcpAs<CallbackOption>(13, Hex("06"));
  EXPECT_EQ(cbcp.operation, 6);
  EXPECT_TRUE(cbcp.message.empty());
  CallbackOption dial = ParseLcpAs<CallbackOption>(13, Hex("01 3132"));
  EXPECT_EQ(dial.operation, 1);
  EXPECT_EQ(dial.message.size(), 2u);

  EndpointDiscriminatorOption local = ParseLcpAs<EndpointDiscriminatorOption>(
      19, Hex("01 0e10404c56ad46baba6f3c20165f880c00000000"));
  EXPECT_EQ(local.discriminator_class, 1);
  EXPECT_EQ(local.address.size(), 20u);
  EndpointDiscriminatorOption mac =
      ParseLcpAs<EndpointDiscriminatorOption>(19, Hex("03 001122334455"));
  EXPECT_EQ(mac.discriminator_class, 3);
  ParseLcpAs<EndpointDiscriminatorOption>(19, Hex("00"));
  ParseLcpAs<EndpointDiscriminatorOption>(19, Hex("02 0a000001"));
  ParseLcpAs<EndpointDiscriminatorOption>(19, Hex("04 0102030405060708"));
  ParseLcpAs<EndpointDiscriminatorOption>(19, Hex("05 3535353132"));
}

TEST(LcpOptionsTest, EndpointDiscriminatorClassRules) {
  // RFC 1990 5.1.3.
  EXPECT_EQ(LcpError(19, "00 01"),
            "LCP option Endpoint-Discriminator (19) Class 0 address length 1, "
            "expected 0");
  EXPECT_EQ(LcpError(19, "01 000102030405060708090a0b0c0d0e0f1011121314"),
            "LCP option Endpoint-Discriminator (19) Class 1 address length 21, "
            "expected <= 20");
  EXPECT_EQ(LcpError(19, "02 0a0000"),
            "LCP option Endpoint-Discriminator (19) Class 2 address length 3, "
            "expected 4");
  EXPECT_EQ(LcpError(19, "03 0011223344"),
            "LCP option Endpoint-Discriminator (19) Class 3 address length 5, "
            "expected 6");
  EXPECT_EQ(LcpError(19, "04 010203"),
            "LCP option Endpoint-Discriminator (19) Class 4 address length 3, "
            "expected a multiple of 4 <= 20");
  EXPECT_EQ(LcpError(19, "05 00000000000000000000000000000000"),
            "LCP option Endpoint-Discriminator (19) Class 5 address length 16, "
            "expected <= 15");
  EXPECT_EQ(LcpError(19, "06 00"),
            "LCP option Endpoint-Discriminator (19) Class 6 unknown (RFC 1990 "
            "5.1.3 defines 0-5)");
}

TEST(LcpOptionsTest, UnknownTypeIsKeptForReject) {
  const std::vector<uint8_t> value = Hex("0102");
  absl::StatusOr<LcpOption> option = ParseLcpOption(Option{18, value});
  ASSERT_TRUE(option.ok());
  ASSERT_TRUE(std::holds_alternative<UnknownOption>(*option));
  EXPECT_EQ(std::get<UnknownOption>(*option).option.type, 18);
  EXPECT_THAT(std::get<UnknownOption>(*option).option.value, ElementsAre(1, 2));
  // Deprecated FCS-Alternatives etc. too, with any length.
  EXPECT_TRUE(
      std::holds_alternative<UnknownOption>(*ParseLcpOption(Option{9, {}})));
}

TEST(LcpOptionsTest, ParseLcpOptionsWholeList) {
  absl::StatusOr<std::vector<LcpOption>> options =
      ParseLcpOptions(Hex("0104 0578 0305 c22381 1202"));
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->size(), 3u);
  EXPECT_EQ(std::get<MruOption>((*options)[0]).mru, 1400);
  EXPECT_EQ(std::get<AuthProtocolOption>((*options)[1]).known,
            AuthProtocol::kMsChapV2);
  EXPECT_EQ(std::get<UnknownOption>((*options)[2]).option.type, 18);

  options = ParseLcpOptions(Hex("0104 0578 0503 00"));
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().message(),
            "LCP option Magic-Number (5) length 3 != 6");
  options = ParseLcpOptions(Hex("0104 05"));
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(options.status().message(), HasSubstr("runs past the data"));
}

TEST(LcpOptionsTest, TypedEncodeRoundTrip) {
  const std::vector<uint8_t> epd_address = Hex("0a000001");
  const std::vector<uint8_t> unknown_value = Hex("aa");
  const std::vector<uint8_t> lqr_data = Hex("000003e8");
  const std::vector<LcpOption> options = {
      MruOption{1400},
      AccmOption{0},
      MakeAuthProtocolOption(AuthProtocol::kMsChapV2),
      QualityProtocolOption{kProtocolLqr, lqr_data},
      MagicNumberOption{0x01020304},
      ProtocolFieldCompressionOption{},
      AddressAndControlFieldCompressionOption{},
      CallbackOption{6, {}},
      MrruOption{1614},
      EndpointDiscriminatorOption{2, epd_address},
      UnknownOption{Option{99, unknown_value}},
  };
  OptionListBuilder builder;
  for (const LcpOption& option : options) builder.AddLcp(option);
  absl::StatusOr<std::vector<uint8_t>> data = builder.Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ToHex(*data),
            "01040578"
            "020600000000"
            "0305c22381"
            "0408c025000003e8"
            "050601020304"
            "0702"
            "0802"
            "0d0306"
            "1104064e"
            "1307020a000001"
            "6303aa");
  absl::StatusOr<std::vector<LcpOption>> parsed = ParseLcpOptions(*data);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, options);
}

TEST(LcpOptionsTest, Names) {
  EXPECT_EQ(LcpOptionName(1), "MRU");
  EXPECT_EQ(LcpOptionName(3), "Authentication-Protocol");
  EXPECT_EQ(LcpOptionName(19), "Endpoint-Discriminator");
  EXPECT_EQ(LcpOptionName(18), "type 18");
  EXPECT_EQ(AuthProtocolName(AuthProtocol::kPap), "PAP");
  EXPECT_EQ(AuthProtocolName(AuthProtocol::kChapMd5), "CHAP-MD5");
  EXPECT_EQ(AuthProtocolName(AuthProtocol::kMsChapV2), "MS-CHAPv2");
  EXPECT_EQ(AuthProtocolName(AuthProtocol::kEap), "EAP");
}

// --- IPCP
// ---------------------------------------------------------------------

TEST(IpcpOptionsTest, ParsesAddressesAndDns) {
  absl::StatusOr<std::vector<IpcpOption>> options = ParseIpcpOptions(
      Hex("0306 c0a8640a 8106 08080808 8306 08080404 8206 0a000001 "
          "8406 0a000002"));
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->size(), 5u);
  const IpcpAddressOption expected[] = {
      {IpcpOptionType::kIpAddress, {192, 168, 100, 10}},
      {IpcpOptionType::kPrimaryDns, {8, 8, 8, 8}},
      {IpcpOptionType::kSecondaryDns, {8, 8, 4, 4}},
      {IpcpOptionType::kPrimaryNbns, {10, 0, 0, 1}},
      {IpcpOptionType::kSecondaryNbns, {10, 0, 0, 2}},
  };
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(std::get<IpcpAddressOption>((*options)[i]), expected[i]) << i;
  }
}

TEST(IpcpOptionsTest, CompressionAndUnknown) {
  const std::vector<uint8_t> vj_value = Hex("002d 0f01");
  absl::StatusOr<IpcpOption> vj = ParseIpcpOption(Option{2, vj_value});
  ASSERT_TRUE(vj.ok());
  EXPECT_EQ(std::get<IpCompressionProtocolOption>(*vj).protocol, 0x002D);
  EXPECT_THAT(std::get<IpCompressionProtocolOption>(*vj).data,
              ElementsAre(0x0f, 0x01));
  // IP-Addresses (1, RFC 1172) is deprecated: unknown, to be rejected.
  absl::StatusOr<IpcpOption> old =
      ParseIpcpOption(Option{1, Hex("0102030405060708")});
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(std::holds_alternative<UnknownOption>(*old));
}

TEST(IpcpOptionsTest, RejectsWrongLengths) {
  auto error = [](uint8_t type, const char* hex) {
    absl::StatusOr<IpcpOption> option = ParseIpcpOption(Option{type, Hex(hex)});
    return option.ok() ? std::string("OK")
                       : std::string(option.status().message());
  };
  EXPECT_EQ(error(3, "c0a864"), "IPCP option IP-Address (3) length 5 != 6");
  EXPECT_EQ(error(129, "0808080808"),
            "IPCP option Primary-DNS (129) length 7 != 6");
  EXPECT_EQ(error(130, ""), "IPCP option Primary-NBNS (130) length 2 != 6");
  EXPECT_EQ(error(131, "08"), "IPCP option Secondary-DNS (131) length 3 != 6");
  EXPECT_EQ(error(132, "08"), "IPCP option Secondary-NBNS (132) length 3 != 6");
  EXPECT_EQ(error(2, "00"),
            "IPCP option IP-Compression-Protocol (2) length 3 < 4");
}

TEST(IpcpOptionsTest, EncodeNakStyleList) {
  // What the client sends in a Configure-Request: 0.0.0.0 asks for values
  // (RFC 1332 3.3, RFC 1877 1).
  absl::StatusOr<std::vector<uint8_t>> data =
      OptionListBuilder()
          .AddIpcp(IpcpAddressOption{IpcpOptionType::kIpAddress, {}})
          .AddIpcp(IpcpAddressOption{IpcpOptionType::kPrimaryDns, {}})
          .AddIpcp(IpcpAddressOption{IpcpOptionType::kSecondaryDns, {}})
          .Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ToHex(*data),
            "030600000000"
            "810600000000"
            "830600000000");

  const std::vector<uint8_t> vj_data = Hex("0f01");
  data = OptionListBuilder()
             .AddIpcp(IpCompressionProtocolOption{0x002D, vj_data})
             .AddIpcp(UnknownOption{Option{1, {}}})
             .Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ToHex(*data),
            "0206002d0f01"
            "0102");
}

TEST(IpcpOptionsTest, Names) {
  EXPECT_EQ(IpcpOptionName(3), "IP-Address");
  EXPECT_EQ(IpcpOptionName(129), "Primary-DNS");
  EXPECT_EQ(IpcpOptionName(1), "type 1");
}

// --- IPv6CP
// -------------------------------------------------------------------

TEST(Ipv6cpOptionsTest, InterfaceIdentifier) {
  absl::StatusOr<std::vector<Ipv6cpOption>> options =
      ParseIpv6cpOptions(Hex("010a 0211223344556677"));
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->size(), 1u);
  const InterfaceIdentifier expected = {0x02, 0x11, 0x22, 0x33,
                                        0x44, 0x55, 0x66, 0x77};
  EXPECT_EQ(std::get<InterfaceIdentifierOption>((*options)[0]).identifier,
            expected);

  absl::StatusOr<std::vector<uint8_t>> data =
      OptionListBuilder()
          .AddIpv6cp(InterfaceIdentifierOption{expected})
          .Build();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ToHex(*data), "010a0211223344556677");
}

TEST(Ipv6cpOptionsTest, CompressionUnknownAndErrors) {
  absl::StatusOr<Ipv6cpOption> compression =
      ParseIpv6cpOption(Option{2, Hex("004f")});
  ASSERT_TRUE(compression.ok());
  EXPECT_EQ(std::get<IpCompressionProtocolOption>(*compression).protocol,
            0x004F);
  absl::StatusOr<Ipv6cpOption> unknown = ParseIpv6cpOption(Option{3, {}});
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(std::holds_alternative<UnknownOption>(*unknown));

  absl::StatusOr<Ipv6cpOption> bad =
      ParseIpv6cpOption(Option{1, Hex("01020304050607")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "IPv6CP option Interface-Identifier (1) length 9 != 10");
  bad = ParseIpv6cpOption(Option{2, Hex("00")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "IPv6CP option IPv6-Compression-Protocol (2) length 3 < 4");

  const std::vector<uint8_t> data = Hex("0102");
  absl::StatusOr<std::vector<uint8_t>> encoded =
      OptionListBuilder()
          .AddIpv6cp(IpCompressionProtocolOption{0x004F, data})
          .Build();
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(ToHex(*encoded), "0206004f0102");
  EXPECT_EQ(Ipv6cpOptionName(1), "Interface-Identifier");
  EXPECT_EQ(Ipv6cpOptionName(7), "type 7");
}

}  // namespace
}  // namespace sstp::ppp
