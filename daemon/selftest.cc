#include "daemon/selftest.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/hex.h"
#include "base/status.h"
#include "daemon/ppp/md4.h"
#include "daemon/ppp/mschapv2.h"
#include "daemon/sstp/crypto_binding.h"
#include "daemon/sstp/packet.h"
#include "ktls/key_schedule.h"

namespace sstp {
namespace {

struct Vector {
  const char* source;
  const char* what;
  std::function<absl::Status()> check;
};

absl::Status Expect(absl::Span<const uint8_t> got, absl::string_view want_hex) {
  const std::string got_hex = ToHex(got);
  const std::string want = ToHex(HexOrDie(want_hex));
  if (got_hex != want) return absl::InternalError(absl::StrCat("got ", got_hex, ", want ", want));
  return absl::OkStatus();
}

template <size_t N>
std::array<uint8_t, N> Array(absl::string_view hex) {
  std::array<uint8_t, N> out{};
  const std::vector<uint8_t> bytes = HexOrDie(hex);
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// MS-SSTP 4.7: CMK and Compound MAC of a CALL_CONNECTED built by our encoder.
absl::Status CheckCryptoBinding(proto::HashProtocol hash, absl::string_view hlak_hex,
                                absl::string_view nonce_hex, absl::string_view cert_hash_hex,
                                absl::string_view cmk_hex, absl::string_view mac_hex) {
  proto::Hlak hlak;
  const std::vector<uint8_t> hlak_bytes = HexOrDie(hlak_hex);
  std::copy(hlak_bytes.begin(), hlak_bytes.end(), hlak.data());
  ASSIGN_OR_RETURN(proto::Cmk cmk, proto::ComputeCmk(hash, hlak));
  RETURN_IF_ERROR(Expect(cmk.span().first(proto::HashLength(hash)), cmk_hex));
  proto::CryptoBinding binding;
  binding.hash = hash;
  binding.nonce = Array<32>(nonce_hex);
  binding.cert_hash = Array<32>(cert_hash_hex);
  const std::vector<uint8_t> message = proto::EncodeCallConnected(binding);
  ASSIGN_OR_RETURN(proto::CryptoBindingField mac, proto::ComputeCompoundMac(hash, cmk, message));
  return Expect(mac, mac_hex);
}

std::vector<Vector> Vectors() {
  return {
      {"RFC 1320 A.5", "MD4(\"abc\")",
       [] {
         const std::string abc = "abc";
         return Expect(ppp::Md4(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(abc.data()),
                                                    abc.size())),
                       "a448017aaf21d8525fc10ae87aa6729d");
       }},
      {"RFC 2759 9.2", "MS-CHAPv2 NT-Response and AuthenticatorResponse",
       [] {
         ASSIGN_OR_RETURN(ppp::MsChapV2ClientResult result,
                          ppp::ComputeMsChapV2Client(
                              "User", "clientPass",
                              Array<16>("5B5D7C7D7B3F2F3E3C2C602132262628"),
                              Array<16>("21402324255E262A28295F2B3A337C7E")));
         RETURN_IF_ERROR(
             Expect(result.nt_response, "82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF"));
         return Expect(result.expected_authenticator.span(),
                       "407A5589115FD0D6209F510FE9C04566932CDA56");
       }},
      {"RFC 3079 3.5.3", "MPPE start keys, SSTP client HLAK",
       [] {
         ASSIGN_OR_RETURN(ppp::MsChapV2ClientResult result,
                          ppp::ComputeMsChapV2Client(
                              "User", "clientPass",
                              Array<16>("5B5D7C7D7B3F2F3E3C2C602132262628"),
                              Array<16>("21402324255E262A28295F2B3A337C7E")));
         return Expect(result.hlak.span(),
                       "D5F0E9521E3EA9589645E86051C82226 8B7CDC149B993A1BA118CB153F56DCCB");
       }},
      {"MS-SSTP 4.7", "crypto binding CMK and Compound MAC, SHA256",
       [] {
         return CheckCryptoBinding(
             proto::HashProtocol::kSha256,
             "2A1BB40D55AB0F5EF32F06F2B3CC73C4 8FD3FAC41D7A1315A19228D9024CA164",
             "412B489AEBD7ECC7D08966F26BE7CD72 B231A0E9210D7C91B308862B0344C435",
             "7993EF314C493DACE9F02D60E7E61C84 B6690AAFE9D7AEEA92CBBE8AD599422D",
             "ECF59AC9FE155CF0A9E7D66ADC1B363C 1AD7BA91A9217F0CEC2A534298828DF6",
             "52A68EFD8CFFBF52770B8F0FE8EC7371 6583AF6D611EB6D179B3B20840985449");
       }},
      {"MS-SSTP 4.7", "crypto binding CMK and Compound MAC, SHA1",
       [] {
         return CheckCryptoBinding(
             proto::HashProtocol::kSha1,
             "4B3128F43925D9006EEFB1C4E86515A1 D88E56BAB3CA2BDF0373B7F5A8A13B19",
             "0F1A2D58D4A3E3000FAD3CE4906E07B7 07AA9E441CCEAC5CBD7B2CC1C9D86CDF",
             "5826B629BDA59B8E6FD8DCD2622FD34C 534805A5 000000000000000000000000",
             "A98B862A38CC7E224B42CD128586ACB2 2F0BD1E9",
             "69915DD583D8062FEF16F61DB2F03290 EC27CB6C 000000000000000000000000");
       }},
      {"RFC 8448 3", "TLS 1.3 application traffic key and IV (client)",
       [] {
         ASSIGN_OR_RETURN(
             ktls::TrafficKeys keys,
             ktls::DeriveTls13Keys(
                 ktls::Cipher::kAes128Gcm,
                 HexOrDie("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")));
         RETURN_IF_ERROR(Expect(keys.key_span(), "17422dda596ed5d9acd890e3c63f5051"));
         return Expect(keys.iv.span(), "5b78923dee08579033e523d9");
       }},
      {"RFC 5246 5", "TLS 1.2 PRF (P_SHA256), first 32 bytes",
       [] {
         std::vector<uint8_t> out(32);
         RETURN_IF_ERROR(ktls::Tls12Prf(ktls::Hash::kSha256,
                                        HexOrDie("9bbe436ba940f017b17652849a71db35"),
                                        "test label",
                                        HexOrDie("a0ba9f936cda311827a6f796ffd5198c"),
                                        absl::MakeSpan(out)));
         return Expect(out, "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a");
       }},
  };
}

}  // namespace

int RunSelfTest(std::FILE* out) {
  int failed = 0;
  int passed = 0;
  for (const Vector& v : Vectors()) {
    const absl::Status status = v.check();
    if (status.ok()) {
      ++passed;
      std::fprintf(out, "ok    %-16s %s\n", v.source, v.what);
    } else {
      ++failed;
      std::fprintf(out, "FAIL  %-16s %s: %s\n", v.source, v.what,
                   std::string(status.message()).c_str());
    }
  }
  std::fprintf(out, "selftest: %d passed, %d failed\n", passed, failed);
  return failed;
}

}  // namespace sstp
