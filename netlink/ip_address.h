// IPv4/IPv6 addresses and prefixes as netlink carries them: raw network-order
// bytes plus a family. Value types, freely copyable, thread-compatible.
#ifndef SSTP_KTLS_NETLINK_IP_ADDRESS_H_
#define SSTP_KTLS_NETLINK_IP_ADDRESS_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sstp::netlink {

// An IPv4 or IPv6 address. A default-constructed IpAddress is 0.0.0.0.
class IpAddress {
 public:
  IpAddress() : IpAddress(AF_INET) {}

  // From network-order bytes: 4 bytes give AF_INET, 16 give AF_INET6; any
  // other size is an error naming it.
  static absl::StatusOr<IpAddress> FromBytes(absl::Span<const uint8_t> bytes);
  static IpAddress V4(std::array<uint8_t, 4> bytes);
  static IpAddress V6(std::array<uint8_t, 16> bytes);
  // The all-zero address of `family` (AF_INET or AF_INET6).
  static IpAddress Any(int family) { return IpAddress(family); }
  // Dotted quad or RFC 4291 2.2 text ("10.0.0.1", "fe80::1"). No scope ids.
  static absl::StatusOr<IpAddress> Parse(absl::string_view text);

  int family() const { return family_; }
  bool is_v4() const { return family_ == AF_INET; }
  // 4 or 16.
  size_t size() const { return is_v4() ? 4 : 16; }
  // The address in network order (size() bytes).
  absl::Span<const uint8_t> bytes() const { return absl::MakeConstSpan(bytes_.data(), size()); }
  // Number of address bits: 32 or 128.
  int bits() const { return static_cast<int>(size() * 8); }

  // 169.254.0.0/16 or fe80::/10: the kernel gives such addresses link scope.
  bool IsLinkLocal() const;
  // 127.0.0.0/8 or ::1.
  bool IsLoopback() const;

  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  explicit IpAddress(int family) : family_(family) {}

  int family_;
  std::array<uint8_t, 16> bytes_{};
};

// An address with a prefix length, e.g. 10.0.0.0/8 or fe80::1/64.
struct IpPrefix {
  IpAddress address;
  int length = 0;

  // A host prefix: /32 or /128.
  static IpPrefix Host(const IpAddress& address) { return {address, address.bits()}; }
  // "10.0.0.0/8", "fe80::1/64"; without "/n" the prefix is a host prefix.
  // A length beyond the family's bits is an error.
  static absl::StatusOr<IpPrefix> Parse(absl::string_view text);

  // The prefix with every bit past `length` cleared (10.1.2.3/8 ->
  // 10.0.0.0/8). Route destinations must be masked: the kernel rejects an
  // IPv4 route whose host bits are set ("Invalid prefix for given prefix
  // length").
  IpPrefix Masked() const;
  bool IsMasked() const { return Masked() == *this; }
  // True if `address` is of this family and its first `length` bits match.
  bool Contains(const IpAddress& address) const;

  std::string ToString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// The IPv6 link-local address fe80::<interface_id> (RFC 4291 2.5.6: 64-bit
// prefix fe80::/64, then the 64-bit interface identifier that IPV6CP
// negotiated, RFC 5072 4.1) as a /64 prefix.
IpPrefix Ipv6LinkLocal(const std::array<uint8_t, 8>& interface_id);

// The two halves of the address space of `family` (AF_INET: 0.0.0.0/1 and
// 128.0.0.0/1; AF_INET6: ::/1 and 8000::/1). Routed through a tunnel they
// cover everything the default route covers, but win by longest-prefix match
// without replacing the default route (see NetworkChanges::AddSplitDefaultRoute).
std::array<IpPrefix, 2> SplitDefaultPrefixes(int family);

// "inet" / "inet6" / "family N", for messages.
std::string FamilyName(int family);

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_IP_ADDRESS_H_
