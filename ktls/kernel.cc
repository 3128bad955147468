#include "ktls/kernel.h"

#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/status.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace sstp::ktls {
namespace {

// Every crypto_info the kernel can hand back; wiped after use (it carries
// the key).
union AnyCryptoInfo {
  tls_crypto_info info;
  tls12_crypto_info_aes_gcm_128 aes_gcm_128;
  tls12_crypto_info_aes_gcm_256 aes_gcm_256;
  tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
};

struct WipeOnExit {
  void* p;
  size_t n;
  ~WipeOnExit() { OPENSSL_cleanse(p, n); }
};

uint64_t BigEndian64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// The rec_seq of a crypto_info of known cipher; false for others.
bool RecordSequenceOf(const AnyCryptoInfo& c, uint64_t* seq) {
  switch (c.info.cipher_type) {
    case TLS_CIPHER_AES_GCM_128:
      *seq = BigEndian64(c.aes_gcm_128.rec_seq);
      return true;
    case TLS_CIPHER_AES_GCM_256:
      *seq = BigEndian64(c.aes_gcm_256.rec_seq);
      return true;
    case TLS_CIPHER_CHACHA20_POLY1305:
      *seq = BigEndian64(c.chacha20_poly1305.rec_seq);
      return true;
    default:
      return false;
  }
}

int Optname(Direction d) { return d == Direction::kTx ? TLS_TX : TLS_RX; }

std::string VersionText(uint16_t v) {
  if (v == TLS_1_2_VERSION) return "TLS 1.2";
  if (v == TLS_1_3_VERSION) return "TLS 1.3";
  return absl::StrCat("version 0x", absl::Hex(v));
}

std::string CipherTypeText(uint16_t c) {
  switch (c) {
    case TLS_CIPHER_AES_GCM_128:
      return "AES-128-GCM";
    case TLS_CIPHER_AES_GCM_256:
      return "AES-256-GCM";
    case TLS_CIPHER_CHACHA20_POLY1305:
      return "ChaCha20-Poly1305";
    default:
      return absl::StrCat("cipher ", c);
  }
}

}  // namespace

absl::string_view DirectionName(Direction d) { return d == Direction::kTx ? "TLS_TX" : "TLS_RX"; }

std::string AlertName(uint8_t description) {
  // RFC 8446 6 and RFC 5246 7.2.
  switch (description) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return absl::StrCat("alert ", description);
  }
}

absl::Status AttachUlp(int fd) {
  static constexpr char kTls[] = "tls";
  if (setsockopt(fd, SOL_TCP, TCP_ULP, kTls, sizeof(kTls) - 1) == 0) return absl::OkStatus();
  const int e = errno;
  switch (e) {
    case ENOENT:
      return absl::UnavailableError(
          "the kernel has no TLS support: TCP_ULP \"tls\" failed with ENOENT (module tls not "
          "built or not loadable)");
    case ENOTCONN:
      // The peer closed (or reset) the connection first: a transport
      // failure, not something the kernel lacks.
      return absl::AbortedError(absl::StrCat("the connection ended before kernel TLS could take it: ",
                                             ErrnoStatus(e, "TCP_ULP \"tls\"").message()));
    default:
      // No ULP support (ENOPROTOOPT), a policy that forbids it (EPERM), ...:
      // the kernel cannot be used here, and nothing changed on the socket.
      return absl::UnavailableError(absl::StrCat("the kernel refused TCP_ULP \"tls\": ",
                                                 ErrnoStatus(e, "setsockopt").message()));
  }
}

absl::Status Install(int fd, Direction direction, const KernelCryptoInfo& info) {
  if (setsockopt(fd, SOL_TLS, Optname(direction), info.data(),
                 static_cast<socklen_t>(info.size())) == 0) {
    return absl::OkStatus();
  }
  const int e = errno;
  const std::string what =
      absl::StrCat(DirectionName(direction), " with ", VersionText(info.version()), " ",
                   CipherTypeText(info.cipher_type()));
  switch (e) {
    case EINVAL:
    case ENOPROTOOPT:
    case ENOENT:
    case EOPNOTSUPP:
      return absl::UnavailableError(
          absl::StrCat("the kernel cannot do ", what, ": ", ErrnoStatus(e, "setsockopt").message()));
    case EBUSY:
      return absl::FailedPreconditionError(absl::StrCat(
          "the kernel refused to replace the ", DirectionName(direction),
          " keys (EBUSY): kernel TLS rekeying needs Linux 6.14 or later"));
    default:
      return absl::InternalError(
          absl::StrCat("installing ", what, ": ", ErrnoStatus(e, "setsockopt").message()));
  }
}

absl::Status SetRxExpectNoPad(int fd) {
  const int on = 1;
  if (setsockopt(fd, SOL_TLS, TLS_RX_EXPECT_NO_PAD, &on, sizeof(on)) == 0) return absl::OkStatus();
  return absl::UnavailableError(ErrnoStatus(errno, "TLS_RX_EXPECT_NO_PAD").message());
}

absl::StatusOr<InstalledState> ReadInstalled(int fd, Direction direction) {
  AnyCryptoInfo c;
  WipeOnExit wipe{&c, sizeof(c)};
  std::memset(&c, 0, sizeof(c));
  // First the header to learn the cipher, then the whole struct of its size.
  socklen_t len = sizeof(c.info);
  if (getsockopt(fd, SOL_TLS, Optname(direction), &c, &len) != 0) {
    const int e = errno;  // Before StrCat, which may allocate.
    return ErrnoStatus(e, absl::StrCat("getsockopt ", DirectionName(direction)));
  }
  switch (c.info.cipher_type) {
    case TLS_CIPHER_AES_GCM_128:
      len = sizeof(c.aes_gcm_128);
      break;
    case TLS_CIPHER_AES_GCM_256:
      len = sizeof(c.aes_gcm_256);
      break;
    case TLS_CIPHER_CHACHA20_POLY1305:
      len = sizeof(c.chacha20_poly1305);
      break;
    default:
      return absl::InternalError(absl::StrCat("getsockopt ", DirectionName(direction),
                                              ": unexpected cipher type ", c.info.cipher_type));
  }
  if (getsockopt(fd, SOL_TLS, Optname(direction), &c, &len) != 0) {
    const int e = errno;  // Before StrCat, which may allocate.
    return ErrnoStatus(e, absl::StrCat("getsockopt ", DirectionName(direction)));
  }
  InstalledState state;
  state.version = c.info.version;
  state.cipher_type = c.info.cipher_type;
  RecordSequenceOf(c, &state.record_sequence);
  return state;
}

absl::Status VerifyInstalled(int fd, Direction direction, const KernelCryptoInfo& info) {
  ASSIGN_OR_RETURN(InstalledState state, ReadInstalled(fd, direction));
  AnyCryptoInfo expected;
  WipeOnExit wipe{&expected, sizeof(expected)};
  std::memset(&expected, 0, sizeof(expected));
  std::memcpy(&expected, info.data(), std::min(info.size(), sizeof(expected)));
  uint64_t expected_seq = 0;
  RecordSequenceOf(expected, &expected_seq);
  const absl::string_view name = DirectionName(direction);
  if (state.version != info.version()) {
    return absl::InternalError(absl::StrCat(name, ": the kernel holds ", VersionText(state.version),
                                            ", installed ", VersionText(info.version())));
  }
  if (state.cipher_type != info.cipher_type()) {
    return absl::InternalError(absl::StrCat(name, ": the kernel holds ",
                                            CipherTypeText(state.cipher_type), ", installed ",
                                            CipherTypeText(info.cipher_type())));
  }
  if (state.record_sequence != expected_seq) {
    return absl::InternalError(absl::StrCat(name, ": the kernel's record sequence is ",
                                            state.record_sequence, ", installed ", expected_seq));
  }
  return absl::OkStatus();
}

absl::Status SendRecord(int fd, uint8_t content_type, absl::Span<const uint8_t> body,
                        absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(uint8_t))] = {};
  iovec iov{const_cast<uint8_t*>(body.data()), body.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_TLS;
  c->cmsg_type = TLS_SET_RECORD_TYPE;
  c->cmsg_len = CMSG_LEN(sizeof(uint8_t));
  *CMSG_DATA(c) = content_type;
  ssize_t n;
  while ((n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0) {
    const int e = errno;
    if (e == EINTR) continue;
    const absl::Duration left = deadline - absl::Now();
    if (e != EAGAIN || left <= absl::ZeroDuration()) {
      return ErrnoStatus(e, absl::StrCat("sending a TLS record of type ", content_type,
                                         e == EAGAIN && wait > absl::ZeroDuration()
                                             ? absl::StrCat(" (the socket stayed full for ",
                                                            absl::FormatDuration(wait), ")")
                                             : ""));
    }
    // Nothing of the record was taken (the kernel waits for room before it
    // copies): wait until the socket drains, then send it whole.
    pollfd p{fd, POLLOUT, 0};
    const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(left));
    if (poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 60000))) < 0 && errno != EINTR) {
      return LastErrnoStatus("poll for room to send a TLS record");
    }
  }
  if (static_cast<size_t>(n) != body.size()) {
    return absl::UnavailableError(absl::StrCat("TLS record of type ", content_type, ": sent ", n,
                                               " of ", body.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TlsStat> ParseTlsStat(absl::string_view text) {
  TlsStat s;
  struct Field {
    absl::string_view name;
    uint64_t TlsStat::*member;
  };
  static constexpr Field kFields[] = {
      {"TlsCurrTxSw", &TlsStat::curr_tx_sw},
      {"TlsCurrRxSw", &TlsStat::curr_rx_sw},
      {"TlsCurrTxDevice", &TlsStat::curr_tx_device},
      {"TlsCurrRxDevice", &TlsStat::curr_rx_device},
      {"TlsTxSw", &TlsStat::tx_sw},
      {"TlsRxSw", &TlsStat::rx_sw},
      {"TlsTxDevice", &TlsStat::tx_device},
      {"TlsRxDevice", &TlsStat::rx_device},
      {"TlsDecryptError", &TlsStat::decrypt_error},
      {"TlsRxDeviceResync", &TlsStat::rx_device_resync},
      {"TlsDecryptRetry", &TlsStat::decrypt_retry},
      {"TlsRxNoPadViolation", &TlsStat::rx_no_pad_violation},
      {"TlsTxRekeyOk", &TlsStat::tx_rekey_ok},
      {"TlsRxRekeyOk", &TlsStat::rx_rekey_ok},
      {"TlsRxRekeyError", &TlsStat::rx_rekey_error},
      {"TlsRxRekeyReceived", &TlsStat::rx_rekey_received},
  };
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t value = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls_stat line ", line_number, ": expected \"Name value\", got \"",
                       line.substr(0, 80), "\""));
    }
    for (const Field& f : kFields) {
      if (parts[0] == f.name) s.*f.member = value;
    }
    if (parts[0] == "TlsTxRekeyOk") s.can_rekey = true;
  }
  return s;
}

absl::StatusOr<TlsStat> ReadTlsStat() {
  std::ifstream in("/proc/net/tls_stat");
  if (!in) return absl::UnavailableError("/proc/net/tls_stat is absent (the tls module is not loaded)");
  std::stringstream text;
  text << in.rdbuf();
  return ParseTlsStat(text.str());
}

}  // namespace sstp::ktls
