#include "ktls/key_schedule.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "base/byte_writer.h"

namespace sstp::ktls {
namespace {

struct EvpKdfDeleter {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
};
struct EvpKdfCtxDeleter {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

// Runs the libcrypto KDF `name` with `params` into `out`.
absl::Status RunKdf(const char* name, OSSL_PARAM* params, absl::Span<uint8_t> out) {
  std::unique_ptr<EVP_KDF, EvpKdfDeleter> kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (kdf == nullptr) return absl::InternalError(absl::StrCat("libcrypto: KDF ", name, " unavailable"));
  std::unique_ptr<EVP_KDF_CTX, EvpKdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return absl::InternalError(absl::StrCat("libcrypto: KDF ", name, " failed"));
  }
  return absl::OkStatus();
}

// OSSL_PARAM takes non-const pointers; libcrypto only reads them.
OSSL_PARAM OctetParam(const char* key, absl::Span<const uint8_t> bytes) {
  return OSSL_PARAM_construct_octet_string(key, const_cast<uint8_t*>(bytes.data()), bytes.size());
}

OSSL_PARAM DigestParam(Hash hash) {
  return OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                          const_cast<char*>(HashName(hash).data()), 0);
}

absl::Status CheckSecretLength(Cipher cipher, absl::Span<const uint8_t> secret) {
  const Hash hash = CipherHash(cipher);
  if (secret.size() != HashLength(hash)) {
    return absl::InvalidArgumentError(absl::StrCat("TLS 1.3 traffic secret has ", secret.size(),
                                                   " bytes; ", CipherName(cipher), " uses ",
                                                   HashName(hash), ", which needs ",
                                                   HashLength(hash)));
  }
  return absl::OkStatus();
}

void StoreBe64(uint64_t value, unsigned char out[8]) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value & 0xFF);
    value >>= 8;
  }
}

}  // namespace

size_t KeyLength(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return 16;
    case Cipher::kAes256Gcm:
    case Cipher::kChacha20Poly1305:
      return 32;
  }
  return 0;
}

size_t Tls12FixedIvLength(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
    case Cipher::kAes256Gcm:
      return 4;
    case Cipher::kChacha20Poly1305:
      return 12;
  }
  return 0;
}

Hash CipherHash(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
    case Cipher::kChacha20Poly1305:
      return Hash::kSha256;
    case Cipher::kAes256Gcm:
      return Hash::kSha384;
  }
  return Hash::kSha256;
}

size_t HashLength(Hash hash) {
  switch (hash) {
    case Hash::kSha256:
      return 32;
    case Hash::kSha384:
      return 48;
  }
  return 0;
}

absl::string_view CipherName(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes128Gcm:
      return "AES-128-GCM";
    case Cipher::kAes256Gcm:
      return "AES-256-GCM";
    case Cipher::kChacha20Poly1305:
      return "CHACHA20-POLY1305";
  }
  return "unknown cipher";
}

absl::string_view TlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls12:
      return "TLS 1.2";
    case TlsVersion::kTls13:
      return "TLS 1.3";
  }
  return "unknown TLS version";
}

// These are also the libcrypto digest names.
absl::string_view HashName(Hash hash) {
  switch (hash) {
    case Hash::kSha256:
      return "SHA256";
    case Hash::kSha384:
      return "SHA384";
  }
  return "unknown hash";
}

absl::StatusOr<TrafficSecret> TrafficSecret::FromBytes(absl::Span<const uint8_t> bytes) {
  if (bytes.size() != HashLength(Hash::kSha256) && bytes.size() != HashLength(Hash::kSha384)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS traffic secret has ", bytes.size(), " bytes; expected 32 (SHA256) or 48 (SHA384)"));
  }
  TrafficSecret secret;
  std::memcpy(secret.bytes_.data(), bytes.data(), bytes.size());
  secret.size_ = bytes.size();
  return secret;
}

absl::Status HkdfExpandLabel(Hash hash, absl::Span<const uint8_t> secret, absl::string_view label,
                             absl::Span<const uint8_t> context, absl::Span<uint8_t> out) {
  // RFC 8446 7.1: the label carries the "tls13 " prefix and is 7..255 bytes.
  constexpr absl::string_view kPrefix = "tls13 ";
  if (label.empty() || kPrefix.size() + label.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("HKDF-Expand-Label label has ", label.size(),
                                                   " bytes; must be 1..249 (RFC 8446 7.1)"));
  }
  if (context.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("HKDF-Expand-Label context has ",
                                                   context.size(), " bytes; at most 255"));
  }
  // RFC 5869 2.3: L <= 255 * HashLen; the uint16 length field caps it too.
  if (out.empty() || out.size() > 255 * HashLength(hash)) {
    return absl::InvalidArgumentError(absl::StrCat("HKDF-Expand-Label output of ", out.size(),
                                                   " bytes; must be 1..", 255 * HashLength(hash)));
  }
  std::array<uint8_t, 2 + 1 + 255 + 1 + 255> info_buffer;
  ByteWriter info(absl::MakeSpan(info_buffer));
  info.WriteU16(static_cast<uint16_t>(out.size()));
  info.WriteU8(static_cast<uint8_t>(kPrefix.size() + label.size()));
  info.WriteBytes(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(kPrefix.data()), kPrefix.size()));
  info.WriteBytes(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
  info.WriteU8(static_cast<uint8_t>(context.size()));
  info.WriteBytes(context);
  if (!info.ok()) return absl::InternalError("HkdfLabel does not fit its buffer");

  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      DigestParam(hash),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OctetParam(OSSL_KDF_PARAM_KEY, secret),
      OctetParam(OSSL_KDF_PARAM_INFO, info.written()),
      OSSL_PARAM_construct_end(),
  };
  return RunKdf("HKDF", params, out);
}

absl::StatusOr<TrafficKeys> DeriveTls13Keys(Cipher cipher, absl::Span<const uint8_t> traffic_secret) {
  absl::Status status = CheckSecretLength(cipher, traffic_secret);
  if (!status.ok()) return status;
  const Hash hash = CipherHash(cipher);
  TrafficKeys keys;
  keys.cipher = cipher;
  status = HkdfExpandLabel(hash, traffic_secret, "key", {}, keys.key.span().first(KeyLength(cipher)));
  if (!status.ok()) return status;
  status = HkdfExpandLabel(hash, traffic_secret, "iv", {}, keys.iv.span());
  if (!status.ok()) return status;
  return keys;
}

absl::StatusOr<TrafficSecret> NextTrafficSecret(Cipher cipher,
                                                absl::Span<const uint8_t> traffic_secret) {
  absl::Status status = CheckSecretLength(cipher, traffic_secret);
  if (!status.ok()) return status;
  SecretArray<kMaxHashLength> next;
  const Hash hash = CipherHash(cipher);
  status = HkdfExpandLabel(hash, traffic_secret, "traffic upd", {},
                           next.span().first(HashLength(hash)));
  if (!status.ok()) return status;
  return TrafficSecret::FromBytes(next.span().first(HashLength(hash)));
}

absl::Status Tls12Prf(Hash hash, absl::Span<const uint8_t> secret, absl::string_view label,
                      absl::Span<const uint8_t> seed, absl::Span<uint8_t> out) {
  if (out.empty()) return absl::InvalidArgumentError("TLS 1.2 PRF output length is 0");
  // RFC 5246 5: the PRF's seed is label || seed.
  std::vector<uint8_t> label_seed(label.begin(), label.end());
  label_seed.insert(label_seed.end(), seed.begin(), seed.end());
  OSSL_PARAM params[] = {
      DigestParam(hash),
      OctetParam(OSSL_KDF_PARAM_SECRET, secret),
      OctetParam(OSSL_KDF_PARAM_SEED, label_seed),
      OSSL_PARAM_construct_end(),
  };
  return RunKdf("TLS1-PRF", params, out);
}

absl::StatusOr<Tls12Keys> DeriveTls12Keys(Cipher cipher, absl::Span<const uint8_t> master_secret,
                                          absl::Span<const uint8_t> client_random,
                                          absl::Span<const uint8_t> server_random) {
  if (master_secret.size() != 48) {
    return absl::InvalidArgumentError(absl::StrCat("TLS 1.2 master secret has ",
                                                   master_secret.size(), " bytes; expected 48"));
  }
  if (client_random.size() != 32 || server_random.size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat("TLS 1.2 randoms have ", client_random.size(),
                                                   " and ", server_random.size(),
                                                   " bytes; expected 32 each"));
  }
  // RFC 5246 6.3: note the order, server_random first.
  std::array<uint8_t, 64> seed;
  std::memcpy(seed.data(), server_random.data(), 32);
  std::memcpy(seed.data() + 32, client_random.data(), 32);

  const size_t key_length = KeyLength(cipher);
  const size_t iv_length = Tls12FixedIvLength(cipher);
  SecretArray<2 * kMaxKeyLength + 2 * kIvLength> key_block;
  absl::Span<uint8_t> used = key_block.span().first(2 * key_length + 2 * iv_length);
  absl::Status status = Tls12Prf(CipherHash(cipher), master_secret, "key expansion", seed, used);
  if (!status.ok()) return status;

  Tls12Keys keys;
  keys.client.cipher = cipher;
  keys.server.cipher = cipher;
  const uint8_t* p = used.data();
  std::memcpy(keys.client.key.data(), p, key_length);
  p += key_length;
  std::memcpy(keys.server.key.data(), p, key_length);
  p += key_length;
  std::memcpy(keys.client.iv.data(), p, iv_length);
  p += iv_length;
  std::memcpy(keys.server.iv.data(), p, iv_length);
  return keys;
}

KernelCryptoInfo::KernelCryptoInfo() { std::memset(&storage_, 0, sizeof(storage_)); }

KernelCryptoInfo::~KernelCryptoInfo() { WipeBytes(&storage_, sizeof(storage_)); }

KernelCryptoInfo BuildCryptoInfo(TlsVersion version, const TrafficKeys& keys,
                                 uint64_t record_sequence) {
  KernelCryptoInfo result;
  uint16_t kernel_version = 0;
  switch (version) {
    case TlsVersion::kTls12:
      kernel_version = TLS_1_2_VERSION;
      break;
    case TlsVersion::kTls13:
      kernel_version = TLS_1_3_VERSION;
      break;
  }
  // AES-GCM: iv field = iv[4..12) (TLS 1.3) or the explicit nonce (TLS 1.2).
  auto fill_gcm = [&](auto& info, uint16_t cipher_type) {
    info.info.version = kernel_version;
    info.info.cipher_type = cipher_type;
    static_assert(sizeof(info.salt) == 4 && sizeof(info.iv) == 8 && sizeof(info.rec_seq) == 8);
    std::memcpy(info.key, keys.key.data(), sizeof(info.key));
    std::memcpy(info.salt, keys.iv.data(), sizeof(info.salt));
    switch (version) {
      case TlsVersion::kTls12:
        StoreBe64(record_sequence, info.iv);
        break;
      case TlsVersion::kTls13:
        std::memcpy(info.iv, keys.iv.data() + 4, sizeof(info.iv));
        break;
    }
    StoreBe64(record_sequence, info.rec_seq);
    result.size_ = sizeof(info);
  };
  switch (keys.cipher) {
    case Cipher::kAes128Gcm:
      static_assert(sizeof(result.storage_.aes_gcm_128.key) == 16);
      fill_gcm(result.storage_.aes_gcm_128, TLS_CIPHER_AES_GCM_128);
      break;
    case Cipher::kAes256Gcm:
      static_assert(sizeof(result.storage_.aes_gcm_256.key) == 32);
      fill_gcm(result.storage_.aes_gcm_256, TLS_CIPHER_AES_GCM_256);
      break;
    case Cipher::kChacha20Poly1305: {
      tls12_crypto_info_chacha20_poly1305& info = result.storage_.chacha20_poly1305;
      static_assert(sizeof(info.iv) == kIvLength && sizeof(info.key) == 32 &&
                    sizeof(info.rec_seq) == 8);
      info.info.version = kernel_version;
      info.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
      std::memcpy(info.key, keys.key.data(), sizeof(info.key));
      std::memcpy(info.iv, keys.iv.data(), sizeof(info.iv));
      StoreBe64(record_sequence, info.rec_seq);
      result.size_ = sizeof(info);
      break;
    }
  }
  return result;
}

}  // namespace sstp::ktls
