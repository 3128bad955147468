#include "daemon/session/kernel_tls.h"

#include <vector>

#include "gtest/gtest.h"

namespace sstp::session {
namespace {

using ktls::TlsVersion;

struct Classified {
  absl::StatusOr<RecordEvent> event;
  std::optional<uint8_t> alert;
};

Classified Classify(TlsVersion v, uint8_t type, std::vector<uint8_t> body,
                    TlsSide side = TlsSide::kClient) {
  Classified c{absl::UnknownError(""), std::nullopt};
  c.event = ClassifyRecord(v, side, type, body, &c.alert);
  return c;
}

TEST(ClassifyRecordTest, CloseNotifyEndsInOrder) {
  for (TlsVersion v : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    Classified c = Classify(v, ktls::kAlert, {1, 0});
    ASSERT_TRUE(c.event.ok()) << c.event.status();
    EXPECT_EQ(c.event->kind, RecordEvent::kPeerClosed);
    EXPECT_FALSE(c.alert);
  }
}

TEST(ClassifyRecordTest, FatalAlertIsNamed) {
  Classified c = Classify(TlsVersion::kTls13, ktls::kAlert, {2, 20});
  ASSERT_FALSE(c.event.ok());
  EXPECT_EQ(c.event.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(c.event.status().message(), "TLS alert from the server: bad_record_mac");
  EXPECT_FALSE(c.alert) << "no alert answers a fatal alert";
  // On the server side the peer is the client.
  Classified s = Classify(TlsVersion::kTls13, ktls::kAlert, {2, 80}, TlsSide::kServer);
  EXPECT_EQ(s.event.status().message(), "TLS alert from the client: internal_error");
}

TEST(ClassifyRecordTest, WarningsOnlyWhereTheyAreWarnings) {
  // TLS 1.2 warning no_renegotiation: the session stays open.
  Classified w12 = Classify(TlsVersion::kTls12, ktls::kAlert, {1, 100});
  ASSERT_TRUE(w12.event.ok());
  EXPECT_EQ(w12.event->kind, RecordEvent::kIgnore);
  // TLS 1.3 has no warnings but user_canceled (RFC 8446 6): others are fatal.
  EXPECT_TRUE(Classify(TlsVersion::kTls13, ktls::kAlert, {1, 90}).event.ok());
  EXPECT_EQ(Classify(TlsVersion::kTls13, ktls::kAlert, {1, 100}).event.status().code(),
            absl::StatusCode::kAborted);
  // TLS 1.2 user_canceled: a warning is one, a fatal one ends the session.
  EXPECT_TRUE(Classify(TlsVersion::kTls12, ktls::kAlert, {1, 90}).event.ok());
  EXPECT_EQ(Classify(TlsVersion::kTls12, ktls::kAlert, {2, 90}).event.status().message(),
            "TLS alert from the server: user_canceled");
}

TEST(ClassifyRecordTest, MalformedAlertOwesDecodeError) {
  Classified c = Classify(TlsVersion::kTls13, ktls::kAlert, {2});
  EXPECT_EQ(c.event.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(c.alert, ktls::kDecodeError);
}

TEST(ClassifyRecordTest, NewSessionTicketsAreIgnored) {
  // Two tickets in one record (OpenSSL sends each in its own, others may not).
  std::vector<uint8_t> body = {4, 0, 0, 3, 1, 2, 3, 4, 0, 0, 1, 9};
  Classified c = Classify(TlsVersion::kTls13, ktls::kHandshake, body);
  ASSERT_TRUE(c.event.ok()) << c.event.status();
  EXPECT_EQ(c.event->kind, RecordEvent::kIgnore);
  EXPECT_NE(c.event->note.find("NewSessionTicket"), std::string::npos);
}

TEST(ClassifyRecordTest, KeyUpdateWithAndWithoutRequest) {
  Classified plain = Classify(TlsVersion::kTls13, ktls::kHandshake, {24, 0, 0, 1, 0});
  ASSERT_TRUE(plain.event.ok());
  EXPECT_EQ(plain.event->kind, RecordEvent::kKeyUpdate);
  EXPECT_FALSE(plain.event->update_requested);
  Classified requested = Classify(TlsVersion::kTls13, ktls::kHandshake, {24, 0, 0, 1, 1});
  ASSERT_TRUE(requested.event.ok());
  EXPECT_TRUE(requested.event->update_requested);
  // A ticket before the KeyUpdate is fine; anything after it is not.
  EXPECT_TRUE(Classify(TlsVersion::kTls13, ktls::kHandshake, {4, 0, 0, 0, 24, 0, 0, 1, 0}).event.ok());
  Classified after = Classify(TlsVersion::kTls13, ktls::kHandshake, {24, 0, 0, 1, 0, 4, 0, 0, 0});
  EXPECT_EQ(after.event.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(after.alert, ktls::kUnexpectedMessage);
}

TEST(ClassifyRecordTest, MalformedKeyUpdate) {
  for (std::vector<uint8_t> body : std::vector<std::vector<uint8_t>>{
           {24, 0, 0, 1, 2}, {24, 0, 0, 2, 0, 0}, {24, 0, 0, 0}}) {
    Classified c = Classify(TlsVersion::kTls13, ktls::kHandshake, body);
    EXPECT_EQ(c.event.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(c.alert, ktls::kDecodeError);
  }
}

TEST(ClassifyRecordTest, TruncatedAndOverlongHandshakeMessages) {
  EXPECT_EQ(Classify(TlsVersion::kTls13, ktls::kHandshake, {}).alert, ktls::kDecodeError);
  EXPECT_EQ(Classify(TlsVersion::kTls13, ktls::kHandshake, {4, 0, 0}).alert, ktls::kDecodeError);
  Classified c = Classify(TlsVersion::kTls13, ktls::kHandshake, {4, 0, 1, 0, 1, 2});
  EXPECT_EQ(c.alert, ktls::kDecodeError);
  EXPECT_NE(c.event.status().message().find("claims 256 bytes; the record holds 2"),
            absl::string_view::npos)
      << c.event.status();
}

TEST(ClassifyRecordTest, VersionAndSideMatter) {
  // KeyUpdate and NewSessionTicket do not exist in TLS 1.2.
  EXPECT_EQ(Classify(TlsVersion::kTls12, ktls::kHandshake, {24, 0, 0, 1, 0}).alert,
            ktls::kUnexpectedMessage);
  EXPECT_EQ(Classify(TlsVersion::kTls12, ktls::kHandshake, {4, 0, 0, 0}).alert,
            ktls::kUnexpectedMessage);
  // HelloRequest: a TLS 1.2 client ignores it; a server never receives one.
  Classified hello = Classify(TlsVersion::kTls12, ktls::kHandshake, {0, 0, 0, 0});
  ASSERT_TRUE(hello.event.ok());
  EXPECT_EQ(hello.event->kind, RecordEvent::kIgnore);
  EXPECT_EQ(Classify(TlsVersion::kTls12, ktls::kHandshake, {0, 0, 0, 0}, TlsSide::kServer).alert,
            ktls::kUnexpectedMessage);
  EXPECT_EQ(Classify(TlsVersion::kTls13, ktls::kHandshake, {0, 0, 0, 0}).alert,
            ktls::kUnexpectedMessage);
  // Only servers issue tickets (RFC 8446 4.6.1).
  EXPECT_EQ(Classify(TlsVersion::kTls13, ktls::kHandshake, {4, 0, 0, 0}, TlsSide::kServer).alert,
            ktls::kUnexpectedMessage);
}

TEST(ClassifyRecordTest, OtherContentTypesAreUnexpected) {
  for (uint8_t type : {uint8_t{20}, uint8_t{24}, uint8_t{99}}) {
    Classified c = Classify(TlsVersion::kTls13, type, {1});
    EXPECT_EQ(c.event.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(c.alert, ktls::kUnexpectedMessage);
  }
}

TEST(ShapeForNicOffloadTest, NarrowsToTls12AesGcmWhenTheNicCanTakeIt) {
  netlink::TlsOffloadFeatures nic;
  nic.interface = "eth0";
  nic.tx_capable = true;
  tls::ClientConfig config;
  ASSERT_TRUE(ShapeForNicOffload(nic, &config));
  EXPECT_EQ(config.max_version, tls::TlsVersion::kTls12);
  EXPECT_EQ(config.ciphers,
            (std::vector<tls::Cipher>{tls::Cipher::kAes128Gcm, tls::Cipher::kAes256Gcm}));
  // The profile's order is kept, ChaCha20 dropped.
  tls::ClientConfig ordered;
  ordered.ciphers = {tls::Cipher::kChacha20Poly1305, tls::Cipher::kAes256Gcm};
  ASSERT_TRUE(ShapeForNicOffload(nic, &ordered));
  EXPECT_EQ(ordered.ciphers, (std::vector<tls::Cipher>{tls::Cipher::kAes256Gcm}));
}

TEST(ShapeForNicOffloadTest, LeavesTheConfigAloneOtherwise) {
  netlink::TlsOffloadFeatures veth;  // No tls-hw-* at all.
  veth.rx_capable = true;            // Receive offload alone does not count.
  tls::ClientConfig config;
  EXPECT_FALSE(ShapeForNicOffload(veth, &config));
  EXPECT_EQ(config.max_version, tls::TlsVersion::kTls13);
  EXPECT_TRUE(config.ciphers.empty());

  netlink::TlsOffloadFeatures nic;
  nic.tx_active = true;
  tls::ClientConfig chacha_only;
  chacha_only.ciphers = {tls::Cipher::kChacha20Poly1305};
  EXPECT_FALSE(ShapeForNicOffload(nic, &chacha_only));
  EXPECT_EQ(chacha_only.max_version, tls::TlsVersion::kTls13);
  tls::ClientConfig tls13_only;
  tls13_only.min_version = tls::TlsVersion::kTls13;
  EXPECT_FALSE(ShapeForNicOffload(nic, &tls13_only));
  EXPECT_EQ(tls13_only.max_version, tls::TlsVersion::kTls13);
}

}  // namespace
}  // namespace sstp::session
