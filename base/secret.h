// Secrets (passwords, NT hashes, MPPE keys, TLS secrets) are held in these
// types so that they are wiped when they go away and are never printable:
// neither type has operator<< or an AbslStringify overload, so a secret
// cannot reach a log line by accident.
#ifndef SSTP_KTLS_BASE_SECRET_H_
#define SSTP_KTLS_BASE_SECRET_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/types/span.h"

namespace sstp {

// Overwrites memory in a way the compiler may not elide.
void WipeBytes(void* data, size_t size);

// A fixed-size secret, e.g. SecretArray<16> for an NT hash.
template <size_t N>
class SecretArray {
 public:
  SecretArray() { bytes_.fill(0); }
  ~SecretArray() { WipeBytes(bytes_.data(), N); }
  SecretArray(const SecretArray& other) = default;
  SecretArray& operator=(const SecretArray& other) = default;

  static constexpr size_t size() { return N; }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  absl::Span<uint8_t> span() { return absl::MakeSpan(bytes_); }
  absl::Span<const uint8_t> span() const { return absl::MakeConstSpan(bytes_); }
  uint8_t& operator[](size_t i) { return bytes_[i]; }
  const uint8_t& operator[](size_t i) const { return bytes_[i]; }

 private:
  std::array<uint8_t, N> bytes_;
};

// A secret string (password). Wiped on destruction and on reassignment.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  ~SecretString() { Wipe(); }
  SecretString(const SecretString& other) = default;
  SecretString& operator=(const SecretString& other) {
    if (this != &other) {
      Wipe();
      value_ = other.value_;
    }
    return *this;
  }
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }

  // Deliberately explicit name: every use of the plain text is greppable.
  absl::string_view reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

 private:
  void Wipe() {
    WipeBytes(value_.data(), value_.size());
    value_.clear();
  }
  std::string value_;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_SECRET_H_
