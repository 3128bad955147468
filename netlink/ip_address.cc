#include "netlink/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sstp::netlink {

absl::StatusOr<IpAddress> IpAddress::FromBytes(absl::Span<const uint8_t> bytes) {
  if (bytes.size() == 4) {
    std::array<uint8_t, 4> v4;
    std::copy(bytes.begin(), bytes.end(), v4.begin());
    return V4(v4);
  }
  if (bytes.size() == 16) {
    std::array<uint8_t, 16> v6;
    std::copy(bytes.begin(), bytes.end(), v6.begin());
    return V6(v6);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("IP address of ", bytes.size(), " bytes (want 4 or 16)"));
}

IpAddress IpAddress::V4(std::array<uint8_t, 4> bytes) {
  IpAddress address(AF_INET);
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin());
  return address;
}

IpAddress IpAddress::V6(std::array<uint8_t, 16> bytes) {
  IpAddress address(AF_INET6);
  address.bytes_ = bytes;
  return address;
}

absl::StatusOr<IpAddress> IpAddress::Parse(absl::string_view text) {
  // inet_pton needs a NUL-terminated string.
  const std::string copy(text);
  std::array<uint8_t, 16> buffer{};
  if (inet_pton(AF_INET, copy.c_str(), buffer.data()) == 1) {
    return V4({buffer[0], buffer[1], buffer[2], buffer[3]});
  }
  if (inet_pton(AF_INET6, copy.c_str(), buffer.data()) == 1) {
    return V6(buffer);
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: \"", text, "\""));
}

bool IpAddress::IsLinkLocal() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::IsLoopback() const {
  if (is_v4()) return bytes_[0] == 127;
  static constexpr std::array<uint8_t, 16> kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                         0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoopback6;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family_, bytes_.data(), buffer, sizeof(buffer)) == nullptr) {
    return "<bad address>";
  }
  return buffer;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(absl::string_view text) {
  const size_t slash = text.find('/');
  absl::StatusOr<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not an IP prefix: \"", text, "\""));
  }
  if (slash == absl::string_view::npos) return Host(*address);
  const absl::string_view length_text = text.substr(slash + 1);
  int length = 0;
  // SimpleAtoi accepts a sign and spaces; a prefix length is digits only.
  if (length_text.empty() || length_text.size() > 3 ||
      !std::all_of(length_text.begin(), length_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(length_text, &length)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad prefix length \"", length_text, "\" in \"", text, "\""));
  }
  if (length > address->bits()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix length ", length, " > ", address->bits(), " in \"", text, "\""));
  }
  return IpPrefix{*address, length};
}

IpPrefix IpPrefix::Masked() const {
  std::array<uint8_t, 16> bytes{};
  const absl::Span<const uint8_t> in = address.bytes();
  for (size_t i = 0; i < in.size(); ++i) {
    const int bit_start = static_cast<int>(i) * 8;
    if (bit_start + 8 <= length) {
      bytes[i] = in[i];
    } else if (bit_start < length) {
      bytes[i] = in[i] & static_cast<uint8_t>(0xff << (8 - (length - bit_start)));
    }
  }
  // FromBytes cannot fail: `in` has the family's size.
  return IpPrefix{*IpAddress::FromBytes(absl::MakeConstSpan(bytes.data(), in.size())), length};
}

bool IpPrefix::Contains(const IpAddress& other) const {
  if (other.family() != address.family()) return false;
  return IpPrefix{other, length}.Masked().address == Masked().address;
}

std::string IpPrefix::ToString() const { return absl::StrCat(address.ToString(), "/", length); }

IpPrefix Ipv6LinkLocal(const std::array<uint8_t, 8>& interface_id) {
  std::array<uint8_t, 16> bytes{0xfe, 0x80};
  std::copy(interface_id.begin(), interface_id.end(), bytes.begin() + 8);
  return IpPrefix{IpAddress::V6(bytes), 64};
}

std::array<IpPrefix, 2> SplitDefaultPrefixes(int family) {
  if (family == AF_INET6) {
    std::array<uint8_t, 16> upper{0x80};
    return {IpPrefix{IpAddress::Any(AF_INET6), 1}, IpPrefix{IpAddress::V6(upper), 1}};
  }
  return {IpPrefix{IpAddress::Any(AF_INET), 1}, IpPrefix{IpAddress::V4({128, 0, 0, 0}), 1}};
}

std::string FamilyName(int family) {
  switch (family) {
    case AF_INET:
      return "inet";
    case AF_INET6:
      return "inet6";
    default:
      return absl::StrCat("family ", family);
  }
}

}  // namespace sstp::netlink
