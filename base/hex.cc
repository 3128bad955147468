#include "base/hex.h"

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sstp {
namespace {

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSeparator(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':';
}

}  // namespace

std::string ToHex(absl::Span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> FromHex(absl::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  int high = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsSeparator(c)) {
      if (high >= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("hex: separator inside a byte at offset ", i));
      }
      continue;
    }
    const int value = DigitValue(c);
    if (value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("hex: invalid character at offset ", i));
    }
    if (high < 0) {
      high = value;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | value));
      high = -1;
    }
  }
  if (high >= 0) return absl::InvalidArgumentError("hex: odd number of digits");
  return out;
}

std::vector<uint8_t> HexOrDie(absl::string_view text) {
  absl::StatusOr<std::vector<uint8_t>> bytes = FromHex(text);
  if (!bytes.ok()) {
    std::fprintf(stderr, "HexOrDie: %s\n", std::string(bytes.status().message()).c_str());
    std::abort();
  }
  return *std::move(bytes);
}

}  // namespace sstp
