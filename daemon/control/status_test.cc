#include "daemon/control/status.h"

#include <string>

#include "gtest/gtest.h"

namespace sstp::control {
namespace {

StatusSnapshot Connected() {
  StatusSnapshot s;
  s.profile = "office";
  s.phase = "connected";
  s.tls_version = "TLS 1.3";
  s.tls_cipher = "TLS_AES_128_GCM_SHA256";
  return s;
}

TEST(FormatStatusTest, KernelRecordLayerWithCountersAndNic) {
  StatusSnapshot s = Connected();
  s.record_layer_tx = s.record_layer_rx = "kernel (software)";
  s.ktls_tx_records = 120;
  s.ktls_rx_records = 340;
  s.ktls_rekeys = 1;
  s.ktls_counters = {{"TlsCurrTxSw", 1}, {"TlsDecryptError", 0}};
  s.nic_offload = "eth0: no NIC TLS offload";
  const std::string text = FormatStatus(s);
  EXPECT_NE(text.find("record layer: kernel (software) both directions\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel tls:   120 records sent, 340 received, 1 rekeys\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("tls_stat:     TlsCurrTxSw 1, TlsDecryptError 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nic:          eth0: no NIC TLS offload\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("why:"), std::string::npos) << text;

  const std::string json = FormatStatusJson(s);
  EXPECT_NE(json.find("\"record_layer_tx\":\"kernel (software)\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"ktls_tx_records\":120,\"ktls_rx_records\":340,\"ktls_rekeys\":1"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"tls_stat\":{\"TlsCurrTxSw\":1,\"TlsDecryptError\":0}"), std::string::npos)
      << json;
}

TEST(FormatStatusTest, UserSpaceSaysWhy) {
  StatusSnapshot s = Connected();
  s.record_layer_tx = s.record_layer_rx = "user space (OpenSSL)";
  s.user_space_reason = "kernel TLS off by configuration";
  const std::string text = FormatStatus(s);
  EXPECT_NE(text.find("record layer: user space (OpenSSL) both directions\n"), std::string::npos);
  EXPECT_NE(text.find("  why:        kernel TLS off by configuration\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("kernel tls:"), std::string::npos) << text;
  EXPECT_NE(FormatStatusJson(s).find("\"tls_stat\":{}"), std::string::npos);
}

TEST(FormatStatusTest, DirectionsMayDiffer) {
  StatusSnapshot s = Connected();
  s.record_layer_tx = "kernel (NIC device offload)";
  s.record_layer_rx = "kernel (software)";
  EXPECT_NE(FormatStatus(s).find("record layer: send kernel (NIC device offload), receive kernel "
                                 "(software)\n"),
            std::string::npos);
}

TEST(FormatStatusTest, BeforeTheHandOver) {
  StatusSnapshot s;
  s.phase = "tls";
  EXPECT_NE(FormatStatus(s).find("record layer: -\n"), std::string::npos) << FormatStatus(s);
}

}  // namespace
}  // namespace sstp::control
