#include "daemon/ppp/options.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "base/byte_reader.h"
#include "daemon/ppp/frame.h"

namespace sstp::ppp {
namespace {

// Lengths in messages are the option's Length field (value + 2), as a packet
// dump shows them.
absl::Status CheckLength(absl::string_view layer, const std::string& name,
                         const Option& option, size_t want_value_size) {
  if (option.value.size() == want_value_size) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s option %s (%d) length %d != %d", layer, name,
                      option.type, option.value.size() + kOptionHeaderSize,
                      want_value_size + kOptionHeaderSize));
}

absl::Status CheckMinLength(absl::string_view layer, const std::string& name,
                            const Option& option, size_t min_value_size) {
  if (option.value.size() >= min_value_size) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s option %s (%d) length %d < %d", layer, name,
                      option.type, option.value.size() + kOptionHeaderSize,
                      min_value_size + kOptionHeaderSize));
}

uint16_t ReadU16At(absl::Span<const uint8_t> bytes) {
  ByteReader reader(bytes);
  uint16_t value = 0;
  reader.ReadU16(&value);
  return value;
}

uint32_t ReadU32At(absl::Span<const uint8_t> bytes) {
  ByteReader reader(bytes);
  uint32_t value = 0;
  reader.ReadU32(&value);
  return value;
}

constexpr uint8_t kChapMd5Data[] = {kChapAlgorithmMd5};
constexpr uint8_t kChapMsChapV2Data[] = {kChapAlgorithmMsChapV2};

absl::StatusOr<AuthProtocolOption> ParseAuthProtocol(const Option& option) {
  const std::string name = LcpOptionName(option.type);
  if (absl::Status s = CheckMinLength("LCP", name, option, 2); !s.ok())
    return s;
  AuthProtocolOption auth;
  auth.protocol = ReadU16At(option.value);
  auth.data = option.value.subspan(2);
  switch (auth.protocol) {
    case kProtocolPap:
    case kProtocolEap:
      // RFC 1334 3.1 (PAP) and RFC 3748 section 2 (EAP): the protocol
      // number alone, Length exactly 4.
      if (!auth.data.empty()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "LCP option %s (3) for %s length %d != 4", name,
            ProtocolName(auth.protocol), option.value.size() + 2));
      }
      auth.known = auth.protocol == kProtocolPap ? AuthProtocol::kPap
                                                 : AuthProtocol::kEap;
      break;
    case kProtocolChap:
      // RFC 1994 3: CHAP is followed by exactly one Algorithm octet.
      if (auth.data.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("LCP option %s (3) for CHAP length %d != 5", name,
                            option.value.size() + 2));
      }
      if (auth.data[0] == kChapAlgorithmMd5) {
        auth.known = AuthProtocol::kChapMd5;
      } else if (auth.data[0] == kChapAlgorithmMsChapV2) {
        auth.known = AuthProtocol::kMsChapV2;
      }
      break;
    default:
      break;
  }
  return auth;
}

absl::StatusOr<EndpointDiscriminatorOption> ParseEndpointDiscriminator(
    const Option& option) {
  const std::string name = LcpOptionName(option.type);
  if (absl::Status s = CheckMinLength("LCP", name, option, 1); !s.ok())
    return s;
  EndpointDiscriminatorOption epd;
  epd.discriminator_class = option.value[0];
  epd.address = option.value.subspan(1);
  const size_t size = epd.address.size();
  // RFC 1990 5.1.3: the Address length is fixed or bounded by the Class.
  bool ok = false;
  std::string expected;
  switch (epd.discriminator_class) {
    case 0:  // Null Class
      ok = size == 0;
      expected = "0";
      break;
    case 1:  // Locally Assigned Address
      ok = size <= 20;
      expected = "<= 20";
      break;
    case 2:  // Internet Protocol (IP) Address
      ok = size == 4;
      expected = "4";
      break;
    case 3:  // IEEE 802.1 Globally Assigned MAC Address
      ok = size == 6;
      expected = "6";
      break;
    case 4:  // PPP Magic-Number Block: up to five 4-octet magic numbers
      ok = size <= 20 && size % 4 == 0;
      expected = "a multiple of 4 <= 20";
      break;
    case 5:  // Public Switched Network Directory Number
      ok = size <= 15;
      expected = "<= 15";
      break;
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "LCP option %s (19) Class %d unknown (RFC 1990 5.1.3 defines 0-5)",
          name, epd.discriminator_class));
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "LCP option %s (19) Class %d address length %d, expected %s", name,
        epd.discriminator_class, size, expected));
  }
  return epd;
}

absl::StatusOr<IpCompressionProtocolOption> ParseCompression(
    absl::string_view layer, const std::string& name, const Option& option) {
  if (absl::Status s = CheckMinLength(layer, name, option, 2); !s.ok())
    return s;
  return IpCompressionProtocolOption{ReadU16At(option.value),
                                     option.value.subspan(2)};
}

}  // namespace

absl::StatusOr<std::vector<Option>> ParseOptions(
    absl::Span<const uint8_t> data) {
  std::vector<Option> options;
  ByteReader reader(data);
  while (!reader.empty()) {
    const size_t offset = reader.offset();
    uint8_t type = 0;
    uint8_t length = 0;
    reader.ReadU8(&type);
    if (!reader.ReadU8(&length)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "option %d at offset %d truncated: type without Length", type,
          offset));
    }
    if (length < kOptionHeaderSize) {
      return absl::InvalidArgumentError(
          absl::StrFormat("option %d at offset %d length %d < %d", type, offset,
                          length, kOptionHeaderSize));
    }
    const size_t left = reader.remaining();
    Option option;
    option.type = type;
    if (!reader.ReadBytes(length - kOptionHeaderSize, &option.value)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "option %d at offset %d length %d runs past the data (%d octets "
          "left)",
          type, offset, length, left + kOptionHeaderSize));
    }
    options.push_back(option);
  }
  return options;
}

// --- LCP --------------------------------------------------------------------

std::string LcpOptionName(uint8_t type) {
  switch (static_cast<LcpOptionType>(type)) {
    case LcpOptionType::kMaximumReceiveUnit:
      return "MRU";
    case LcpOptionType::kAsyncControlCharacterMap:
      return "ACCM";
    case LcpOptionType::kAuthenticationProtocol:
      return "Authentication-Protocol";
    case LcpOptionType::kQualityProtocol:
      return "Quality-Protocol";
    case LcpOptionType::kMagicNumber:
      return "Magic-Number";
    case LcpOptionType::kProtocolFieldCompression:
      return "PFC";
    case LcpOptionType::kAddressAndControlFieldCompression:
      return "ACFC";
    case LcpOptionType::kCallback:
      return "Callback";
    case LcpOptionType::kMultilinkMrru:
      return "MRRU";
    case LcpOptionType::kEndpointDiscriminator:
      return "Endpoint-Discriminator";
  }
  return absl::StrFormat("type %d", type);
}

absl::string_view AuthProtocolName(AuthProtocol protocol) {
  switch (protocol) {
    case AuthProtocol::kPap:
      return "PAP";
    case AuthProtocol::kChapMd5:
      return "CHAP-MD5";
    case AuthProtocol::kMsChapV2:
      return "MS-CHAPv2";
    case AuthProtocol::kEap:
      return "EAP";
  }
  return "?";
}

AuthProtocolOption MakeAuthProtocolOption(AuthProtocol protocol) {
  AuthProtocolOption option;
  option.known = protocol;
  switch (protocol) {
    case AuthProtocol::kPap:
      option.protocol = kProtocolPap;
      break;
    case AuthProtocol::kChapMd5:
      option.protocol = kProtocolChap;
      option.data = kChapMd5Data;
      break;
    case AuthProtocol::kMsChapV2:
      option.protocol = kProtocolChap;
      option.data = kChapMsChapV2Data;
      break;
    case AuthProtocol::kEap:
      option.protocol = kProtocolEap;
      break;
  }
  return option;
}

absl::StatusOr<AuthProtocolOption> ParseAuthProtocolValue(
    absl::Span<const uint8_t> value) {
  return ParseAuthProtocol(Option{
      static_cast<uint8_t>(LcpOptionType::kAuthenticationProtocol), value});
}

std::vector<uint8_t> EncodeAuthProtocolValue(AuthProtocol protocol) {
  const AuthProtocolOption option = MakeAuthProtocolOption(protocol);
  std::vector<uint8_t> value = {static_cast<uint8_t>(option.protocol >> 8),
                                static_cast<uint8_t>(option.protocol)};
  value.insert(value.end(), option.data.begin(), option.data.end());
  return value;
}

absl::StatusOr<LcpOption> ParseLcpOption(const Option& option) {
  const std::string name = LcpOptionName(option.type);
  absl::Status status;
  switch (static_cast<LcpOptionType>(option.type)) {
    case LcpOptionType::kMaximumReceiveUnit:
      if (status = CheckLength("LCP", name, option, 2); !status.ok()) break;
      return MruOption{ReadU16At(option.value)};
    case LcpOptionType::kAsyncControlCharacterMap:
      if (status = CheckLength("LCP", name, option, 4); !status.ok()) break;
      return AccmOption{ReadU32At(option.value)};
    case LcpOptionType::kAuthenticationProtocol: {
      absl::StatusOr<AuthProtocolOption> auth = ParseAuthProtocol(option);
      if (!auth.ok()) return auth.status();
      return *auth;
    }
    case LcpOptionType::kQualityProtocol:
      if (status = CheckMinLength("LCP", name, option, 2); !status.ok()) break;
      return QualityProtocolOption{ReadU16At(option.value),
                                   option.value.subspan(2)};
    case LcpOptionType::kMagicNumber:
      if (status = CheckLength("LCP", name, option, 4); !status.ok()) break;
      return MagicNumberOption{ReadU32At(option.value)};
    case LcpOptionType::kProtocolFieldCompression:
      if (status = CheckLength("LCP", name, option, 0); !status.ok()) break;
      return ProtocolFieldCompressionOption{};
    case LcpOptionType::kAddressAndControlFieldCompression:
      if (status = CheckLength("LCP", name, option, 0); !status.ok()) break;
      return AddressAndControlFieldCompressionOption{};
    case LcpOptionType::kCallback:
      // RFC 1570 2.3: Operation octet, then a Message that may be empty.
      if (status = CheckMinLength("LCP", name, option, 1); !status.ok()) break;
      return CallbackOption{option.value[0], option.value.subspan(1)};
    case LcpOptionType::kMultilinkMrru:
      if (status = CheckLength("LCP", name, option, 2); !status.ok()) break;
      return MrruOption{ReadU16At(option.value)};
    case LcpOptionType::kEndpointDiscriminator: {
      absl::StatusOr<EndpointDiscriminatorOption> epd =
          ParseEndpointDiscriminator(option);
      if (!epd.ok()) return epd.status();
      return *epd;
    }
  }
  if (!status.ok()) return status;
  return UnknownOption{option};
}

// --- IPCP -------------------------------------------------------------------

std::string IpcpOptionName(uint8_t type) {
  switch (static_cast<IpcpOptionType>(type)) {
    case IpcpOptionType::kIpCompressionProtocol:
      return "IP-Compression-Protocol";
    case IpcpOptionType::kIpAddress:
      return "IP-Address";
    case IpcpOptionType::kPrimaryDns:
      return "Primary-DNS";
    case IpcpOptionType::kPrimaryNbns:
      return "Primary-NBNS";
    case IpcpOptionType::kSecondaryDns:
      return "Secondary-DNS";
    case IpcpOptionType::kSecondaryNbns:
      return "Secondary-NBNS";
  }
  return absl::StrFormat("type %d", type);
}

absl::StatusOr<IpcpOption> ParseIpcpOption(const Option& option) {
  const std::string name = IpcpOptionName(option.type);
  const auto type = static_cast<IpcpOptionType>(option.type);
  switch (type) {
    case IpcpOptionType::kIpCompressionProtocol: {
      absl::StatusOr<IpCompressionProtocolOption> compression =
          ParseCompression("IPCP", name, option);
      if (!compression.ok()) return compression.status();
      return *compression;
    }
    case IpcpOptionType::kIpAddress:
    case IpcpOptionType::kPrimaryDns:
    case IpcpOptionType::kPrimaryNbns:
    case IpcpOptionType::kSecondaryDns:
    case IpcpOptionType::kSecondaryNbns: {
      if (absl::Status s = CheckLength("IPCP", name, option, 4); !s.ok()) {
        return s;
      }
      IpcpAddressOption address;
      address.type = type;
      std::copy(option.value.begin(), option.value.end(),
                address.address.begin());
      return address;
    }
  }
  return UnknownOption{option};
}

// --- IPv6CP -----------------------------------------------------------------

std::string Ipv6cpOptionName(uint8_t type) {
  switch (static_cast<Ipv6cpOptionType>(type)) {
    case Ipv6cpOptionType::kInterfaceIdentifier:
      return "Interface-Identifier";
    case Ipv6cpOptionType::kIpv6CompressionProtocol:
      return "IPv6-Compression-Protocol";
  }
  return absl::StrFormat("type %d", type);
}

absl::StatusOr<Ipv6cpOption> ParseIpv6cpOption(const Option& option) {
  const std::string name = Ipv6cpOptionName(option.type);
  switch (static_cast<Ipv6cpOptionType>(option.type)) {
    case Ipv6cpOptionType::kInterfaceIdentifier: {
      if (absl::Status s = CheckLength("IPv6CP", name, option, 8); !s.ok()) {
        return s;
      }
      InterfaceIdentifierOption id;
      std::copy(option.value.begin(), option.value.end(),
                id.identifier.begin());
      return id;
    }
    case Ipv6cpOptionType::kIpv6CompressionProtocol: {
      absl::StatusOr<IpCompressionProtocolOption> compression =
          ParseCompression("IPv6CP", name, option);
      if (!compression.ok()) return compression.status();
      return *compression;
    }
  }
  return UnknownOption{option};
}

// --- Whole lists
// --------------------------------------------------------------

namespace {

template <typename Typed, typename ParseOne>
absl::StatusOr<std::vector<Typed>> ParseTypedOptions(
    absl::Span<const uint8_t> data, ParseOne parse_one) {
  absl::StatusOr<std::vector<Option>> options = ParseOptions(data);
  if (!options.ok()) return options.status();
  std::vector<Typed> typed;
  typed.reserve(options->size());
  for (const Option& option : *options) {
    absl::StatusOr<Typed> one = parse_one(option);
    if (!one.ok()) return one.status();
    typed.push_back(*std::move(one));
  }
  return typed;
}

}  // namespace

absl::StatusOr<std::vector<LcpOption>> ParseLcpOptions(
    absl::Span<const uint8_t> data) {
  return ParseTypedOptions<LcpOption>(data, ParseLcpOption);
}

absl::StatusOr<std::vector<IpcpOption>> ParseIpcpOptions(
    absl::Span<const uint8_t> data) {
  return ParseTypedOptions<IpcpOption>(data, ParseIpcpOption);
}

absl::StatusOr<std::vector<Ipv6cpOption>> ParseIpv6cpOptions(
    absl::Span<const uint8_t> data) {
  return ParseTypedOptions<Ipv6cpOption>(data, ParseIpv6cpOption);
}

// --- Encoding ---------------------------------------------------------------

namespace {

std::array<uint8_t, 2> U16Bytes(uint16_t value) {
  return {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

std::array<uint8_t, 4> U32Bytes(uint32_t value) {
  return {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

// Overload set for std::visit.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

OptionListBuilder& OptionListBuilder::AddWithPrefix(
    uint8_t type, absl::Span<const uint8_t> prefix,
    absl::Span<const uint8_t> rest) {
  if (!status_.ok()) return *this;
  const size_t value_size = prefix.size() + rest.size();
  if (value_size > kMaxOptionValueSize) {
    status_ = absl::InvalidArgumentError(absl::StrFormat(
        "option %d value of %d octets exceeds %d (Length is one octet)", type,
        value_size, kMaxOptionValueSize));
    return *this;
  }
  bytes_.push_back(type);
  bytes_.push_back(static_cast<uint8_t>(value_size + kOptionHeaderSize));
  bytes_.insert(bytes_.end(), prefix.begin(), prefix.end());
  bytes_.insert(bytes_.end(), rest.begin(), rest.end());
  return *this;
}

OptionListBuilder& OptionListBuilder::Add(uint8_t type,
                                          absl::Span<const uint8_t> value) {
  return AddWithPrefix(type, {}, value);
}

OptionListBuilder& OptionListBuilder::AddU16(uint8_t type, uint16_t value) {
  return Add(type, U16Bytes(value));
}

OptionListBuilder& OptionListBuilder::AddU32(uint8_t type, uint32_t value) {
  return Add(type, U32Bytes(value));
}

OptionListBuilder& OptionListBuilder::AddLcp(const LcpOption& option) {
  auto type = [](LcpOptionType t) { return static_cast<uint8_t>(t); };
  return std::visit(
      Overloaded{
          [&](const MruOption& o) -> OptionListBuilder& {
            return AddU16(type(LcpOptionType::kMaximumReceiveUnit), o.mru);
          },
          [&](const AccmOption& o) -> OptionListBuilder& {
            return AddU32(type(LcpOptionType::kAsyncControlCharacterMap),
                          o.accm);
          },
          [&](const AuthProtocolOption& o) -> OptionListBuilder& {
            return AddWithPrefix(type(LcpOptionType::kAuthenticationProtocol),
                                 U16Bytes(o.protocol), o.data);
          },
          [&](const QualityProtocolOption& o) -> OptionListBuilder& {
            return AddWithPrefix(type(LcpOptionType::kQualityProtocol),
                                 U16Bytes(o.protocol), o.data);
          },
          [&](const MagicNumberOption& o) -> OptionListBuilder& {
            return AddU32(type(LcpOptionType::kMagicNumber), o.magic_number);
          },
          [&](const ProtocolFieldCompressionOption&) -> OptionListBuilder& {
            return Add(type(LcpOptionType::kProtocolFieldCompression), {});
          },
          [&](const AddressAndControlFieldCompressionOption&)
              -> OptionListBuilder& {
            return Add(type(LcpOptionType::kAddressAndControlFieldCompression),
                       {});
          },
          [&](const CallbackOption& o) -> OptionListBuilder& {
            const uint8_t operation[1] = {o.operation};
            return AddWithPrefix(type(LcpOptionType::kCallback), operation,
                                 o.message);
          },
          [&](const MrruOption& o) -> OptionListBuilder& {
            return AddU16(type(LcpOptionType::kMultilinkMrru), o.mrru);
          },
          [&](const EndpointDiscriminatorOption& o) -> OptionListBuilder& {
            const uint8_t discriminator_class[1] = {o.discriminator_class};
            return AddWithPrefix(type(LcpOptionType::kEndpointDiscriminator),
                                 discriminator_class, o.address);
          },
          [&](const UnknownOption& o) -> OptionListBuilder& {
            return Add(o.option);
          },
      },
      option);
}

OptionListBuilder& OptionListBuilder::AddIpcp(const IpcpOption& option) {
  return std::visit(
      Overloaded{
          [&](const IpcpAddressOption& o) -> OptionListBuilder& {
            return Add(static_cast<uint8_t>(o.type), o.address);
          },
          [&](const IpCompressionProtocolOption& o) -> OptionListBuilder& {
            return AddWithPrefix(
                static_cast<uint8_t>(IpcpOptionType::kIpCompressionProtocol),
                U16Bytes(o.protocol), o.data);
          },
          [&](const UnknownOption& o) -> OptionListBuilder& {
            return Add(o.option);
          },
      },
      option);
}

OptionListBuilder& OptionListBuilder::AddIpv6cp(const Ipv6cpOption& option) {
  return std::visit(
      Overloaded{
          [&](const InterfaceIdentifierOption& o) -> OptionListBuilder& {
            return Add(
                static_cast<uint8_t>(Ipv6cpOptionType::kInterfaceIdentifier),
                o.identifier);
          },
          [&](const IpCompressionProtocolOption& o) -> OptionListBuilder& {
            return AddWithPrefix(
                static_cast<uint8_t>(
                    Ipv6cpOptionType::kIpv6CompressionProtocol),
                U16Bytes(o.protocol), o.data);
          },
          [&](const UnknownOption& o) -> OptionListBuilder& {
            return Add(o.option);
          },
      },
      option);
}

absl::StatusOr<std::vector<uint8_t>> OptionListBuilder::Build() const {
  if (!status_.ok()) return status_;
  return bytes_;
}

absl::StatusOr<std::vector<uint8_t>> EncodeOptions(
    absl::Span<const Option> options) {
  OptionListBuilder builder;
  for (const Option& option : options) builder.Add(option);
  return builder.Build();
}

}  // namespace sstp::ppp
