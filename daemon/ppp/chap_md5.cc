#include "daemon/ppp/chap_md5.h"

#include <openssl/evp.h>

#include <memory>

namespace sstp::ppp {
namespace {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

absl::StatusOr<ChapMd5Response> ComputeChapMd5Response(uint8_t identifier,
                                                       absl::string_view secret,
                                                       absl::Span<const uint8_t> challenge) {
  // The digest context holds the secret in its state; EVP_MD_CTX_free()
  // clears it.
  std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) {
    return absl::InternalError("libcrypto: MD5 digest unavailable (needed for CHAP-MD5)");
  }
  ChapMd5Response response;
  unsigned int length = 0;
  if (EVP_DigestUpdate(ctx.get(), &identifier, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), challenge.data(), challenge.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), response.data(), &length) != 1 ||
      length != response.size()) {
    return absl::InternalError("libcrypto: MD5 computation failed");
  }
  return response;
}

}  // namespace sstp::ppp
