// Configuration Options of LCP, IPCP and IPv6CP: the Type / Length / Value
// list of RFC 1661 6 carried by Configure-Request/-Ack/-Nak/-Reject, and a
// typed view of each option the client understands.
//
// Two steps, so that the negotiating code can answer option by option, in
// order (RFC 1661 5.2-5.4 need the options echoed unmodified):
//   ParseOptions()     splits the Data field into {type, value} views;
//   ParseLcpOption()   (and the IPCP / IPv6CP versions) checks one option's
//                      length and format and decodes it. A type we do not
//                      know decodes to UnknownOption (Configure-Reject it); a
//                      known type with a malformed value is an error.
//
// Every view points into the buffer given to the parser and must not outlive
// it. OptionListBuilder encodes; it copies. Pure, no I/O, thread-compatible.
#ifndef SSTP_KTLS_DAEMON_PPP_OPTIONS_H_
#define SSTP_KTLS_DAEMON_PPP_OPTIONS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sstp::ppp {

// --- Generic option list (RFC 1661 6) --------------------------------------

// Type + Length.
inline constexpr size_t kOptionHeaderSize = 2;
// Length is one octet and counts the header.
inline constexpr size_t kMaxOptionValueSize = 255 - kOptionHeaderSize;

struct Option {
  uint8_t type = 0;
  absl::Span<const uint8_t> value;  // Length - 2 octets.
  friend bool operator==(const Option&, const Option&) = default;
};

// Splits a Configure-* Data field into options. Errors name the option type
// and the lengths: Length < 2, Length past the end of the data, a lone type
// octet at the end.
absl::StatusOr<std::vector<Option>> ParseOptions(
    absl::Span<const uint8_t> data);

// --- LCP (RFC 1661 6, RFC 1570, RFC 1990) -----------------------------------

enum class LcpOptionType : uint8_t {
  kMaximumReceiveUnit = 1,                 // RFC 1661 6.1
  kAsyncControlCharacterMap = 2,           // RFC 1662 7.1
  kAuthenticationProtocol = 3,             // RFC 1661 6.2
  kQualityProtocol = 4,                    // RFC 1661 6.3
  kMagicNumber = 5,                        // RFC 1661 6.4
  kProtocolFieldCompression = 7,           // RFC 1661 6.5
  kAddressAndControlFieldCompression = 8,  // RFC 1661 6.6
  kCallback = 13,                          // RFC 1570 2.3
  kMultilinkMrru = 17,                     // RFC 1990 5.1.1
  kEndpointDiscriminator = 19,             // RFC 1990 5.1.3
};

// "MRU", "Authentication-Protocol", ..., or "type 42".
std::string LcpOptionName(uint8_t type);

// The authentication protocols the client implements, as chosen in the LCP
// Authentication-Protocol option.
enum class AuthProtocol : uint8_t {
  kPap,       // 0xC023 (RFC 1334)
  kChapMd5,   // 0xC223 algorithm 5 (RFC 1994)
  kMsChapV2,  // 0xC223 algorithm 0x81 (RFC 2759)
  kEap,       // 0xC227 (RFC 3748)
};
absl::string_view AuthProtocolName(AuthProtocol protocol);

// CHAP Algorithm octets of the Authentication-Protocol option. MS-CHAPv1
// (RFC 2433) is not implemented: named only to recognise it in logs.
inline constexpr uint8_t kChapAlgorithmMd5 = 0x05;       // RFC 1994
inline constexpr uint8_t kChapAlgorithmMsChapV1 = 0x80;  // RFC 2433
inline constexpr uint8_t kChapAlgorithmMsChapV2 = 0x81;  // RFC 2759

struct MruOption {
  uint16_t mru = 0;
  friend bool operator==(const MruOption&, const MruOption&) = default;
};
struct AccmOption {
  uint32_t accm = 0;
  friend bool operator==(const AccmOption&, const AccmOption&) = default;
};
// Authentication-Protocol. Any well-formed value parses; `known` says whether
// it is one the client implements (if not: Configure-Nak it with one we do,
// RFC 1661 6.2). The formats of PAP (no data), CHAP (one Algorithm octet) and
// EAP (no data) are enforced; other protocols may carry any data.
struct AuthProtocolOption {
  uint16_t protocol = 0;
  absl::Span<const uint8_t> data;
  std::optional<AuthProtocol> known;
  friend bool operator==(const AuthProtocolOption&,
                         const AuthProtocolOption&) = default;
};
// The option value that asks for `protocol`; `data` views static storage.
AuthProtocolOption MakeAuthProtocolOption(AuthProtocol protocol);
// The Authentication-Protocol option's value alone (what follows Type and
// Length), both ways: C0 23 | C2 23 05 | C2 23 81 | C2 27.
absl::StatusOr<AuthProtocolOption> ParseAuthProtocolValue(
    absl::Span<const uint8_t> value);
std::vector<uint8_t> EncodeAuthProtocolValue(AuthProtocol protocol);

struct QualityProtocolOption {
  uint16_t protocol = 0;  // 0xC025: Link Quality Report (RFC 1989)
  absl::Span<const uint8_t> data;
  friend bool operator==(const QualityProtocolOption&,
                         const QualityProtocolOption&) = default;
};
// RFC 1661 6.4: zero is not a valid Magic-Number and must be Nak'd; the
// codec decodes it and leaves that decision to the caller.
struct MagicNumberOption {
  uint32_t magic_number = 0;
  friend bool operator==(const MagicNumberOption&,
                         const MagicNumberOption&) = default;
};
struct ProtocolFieldCompressionOption {
  friend bool operator==(const ProtocolFieldCompressionOption&,
                         const ProtocolFieldCompressionOption&) = default;
};
struct AddressAndControlFieldCompressionOption {
  friend bool operator==(const AddressAndControlFieldCompressionOption&,
                         const AddressAndControlFieldCompressionOption&) =
      default;
};
struct CallbackOption {
  uint8_t operation = 0;  // 6: Microsoft CBCP, what Windows servers offer.
  absl::Span<const uint8_t> message;
  friend bool operator==(const CallbackOption&,
                         const CallbackOption&) = default;
};
struct MrruOption {
  uint16_t mrru = 0;
  friend bool operator==(const MrruOption&, const MrruOption&) = default;
};
struct EndpointDiscriminatorOption {
  uint8_t discriminator_class = 0;  // RFC 1990 5.1.3 Class 0..5
  absl::Span<const uint8_t> address;
  friend bool operator==(const EndpointDiscriminatorOption&,
                         const EndpointDiscriminatorOption&) = default;
};
// An option type the codec does not know, unchanged: Configure-Reject it.
struct UnknownOption {
  Option option;
  friend bool operator==(const UnknownOption&, const UnknownOption&) = default;
};

using LcpOption =
    std::variant<MruOption, AccmOption, AuthProtocolOption,
                 QualityProtocolOption, MagicNumberOption,
                 ProtocolFieldCompressionOption,
                 AddressAndControlFieldCompressionOption, CallbackOption,
                 MrruOption, EndpointDiscriminatorOption, UnknownOption>;

// Checks the exact length/format of a known LCP option and decodes it.
// Errors read like "LCP option MRU (1) length 3 != 4".
absl::StatusOr<LcpOption> ParseLcpOption(const Option& option);
// ParseOptions() + ParseLcpOption() on each, stopping at the first error.
absl::StatusOr<std::vector<LcpOption>> ParseLcpOptions(
    absl::Span<const uint8_t> data);

// --- IPCP (RFC 1332, RFC 1877) ----------------------------------------------

enum class IpcpOptionType : uint8_t {
  kIpCompressionProtocol = 2,  // RFC 1332 3.2
  kIpAddress = 3,              // RFC 1332 3.3
  kPrimaryDns = 129,           // RFC 1877 1.1
  kPrimaryNbns = 130,          // RFC 1877 1.2
  kSecondaryDns = 131,         // RFC 1877 1.3
  kSecondaryNbns = 132,        // RFC 1877 1.4
};
std::string IpcpOptionName(uint8_t type);

// Network byte order, as on the wire.
using Ipv4Address = std::array<uint8_t, 4>;

// IP-Address and the four RFC 1877 server addresses: 4 octets each.
struct IpcpAddressOption {
  IpcpOptionType type = IpcpOptionType::kIpAddress;
  Ipv4Address address{};
  friend bool operator==(const IpcpAddressOption&,
                         const IpcpAddressOption&) = default;
};
// IP-Compression-Protocol (RFC 1332 3.2) and IPv6-Compression-Protocol
// (RFC 5072 4.2) share type 2 and the format; the client rejects both.
struct IpCompressionProtocolOption {
  uint16_t protocol = 0;  // 0x002D: Van Jacobson
  absl::Span<const uint8_t> data;
  friend bool operator==(const IpCompressionProtocolOption&,
                         const IpCompressionProtocolOption&) = default;
};

using IpcpOption =
    std::variant<IpcpAddressOption, IpCompressionProtocolOption, UnknownOption>;

absl::StatusOr<IpcpOption> ParseIpcpOption(const Option& option);
absl::StatusOr<std::vector<IpcpOption>> ParseIpcpOptions(
    absl::Span<const uint8_t> data);

// --- IPv6CP (RFC 5072) ------------------------------------------------------

enum class Ipv6cpOptionType : uint8_t {
  kInterfaceIdentifier = 1,      // RFC 5072 4.1
  kIpv6CompressionProtocol = 2,  // RFC 5072 4.2
};
std::string Ipv6cpOptionName(uint8_t type);

using InterfaceIdentifier = std::array<uint8_t, 8>;

struct InterfaceIdentifierOption {
  InterfaceIdentifier identifier{};
  friend bool operator==(const InterfaceIdentifierOption&,
                         const InterfaceIdentifierOption&) = default;
};

using Ipv6cpOption = std::variant<InterfaceIdentifierOption,
                                  IpCompressionProtocolOption, UnknownOption>;

absl::StatusOr<Ipv6cpOption> ParseIpv6cpOption(const Option& option);
absl::StatusOr<std::vector<Ipv6cpOption>> ParseIpv6cpOptions(
    absl::Span<const uint8_t> data);

// --- Encoding ---------------------------------------------------------------

// Builds the Data field of a Configure-* packet, in the order options are
// added. The first error (a value longer than kMaxOptionValueSize) sticks and
// is returned by Build(); later Add calls are ignored.
//
//   ASSIGN_OR_RETURN(std::vector<uint8_t> data,
//                    OptionListBuilder()
//                        .AddLcp(MruOption{1400})
//                        .AddLcp(MagicNumberOption{magic})
//                        .Build());
class OptionListBuilder {
 public:
  OptionListBuilder& Add(uint8_t type, absl::Span<const uint8_t> value);
  OptionListBuilder& Add(const Option& option) {
    return Add(option.type, option.value);
  }
  OptionListBuilder& AddU16(uint8_t type, uint16_t value);
  OptionListBuilder& AddU32(uint8_t type, uint32_t value);
  OptionListBuilder& AddLcp(const LcpOption& option);
  OptionListBuilder& AddIpcp(const IpcpOption& option);
  OptionListBuilder& AddIpv6cp(const Ipv6cpOption& option);

  absl::StatusOr<std::vector<uint8_t>> Build() const;

 private:
  OptionListBuilder& AddWithPrefix(uint8_t type,
                                   absl::Span<const uint8_t> prefix,
                                   absl::Span<const uint8_t> rest);

  std::vector<uint8_t> bytes_;
  absl::Status status_;
};

// Encodes `options` in order (the inverse of ParseOptions()).
absl::StatusOr<std::vector<uint8_t>> EncodeOptions(
    absl::Span<const Option> options);

}  // namespace sstp::ppp

#endif  // SSTP_KTLS_DAEMON_PPP_OPTIONS_H_
