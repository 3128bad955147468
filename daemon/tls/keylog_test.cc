#include "daemon/tls/keylog.h"

#include <string>

#include "absl/status/status.h"
#include "base/hex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kRandom(64, 'a');  // 0xaa * 32

TEST(KeyLogTest, ParsesTls12MasterSecret) {
  const std::string master = std::string(96, '0').replace(94, 2, "ff");
  absl::StatusOr<KeyLogEntry> entry = ParseKeyLogLine("CLIENT_RANDOM " + kRandom + " " + master);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->label, KeyLogLabel::kClientRandom);
  EXPECT_EQ(ToHex(entry->client_random), kRandom);
  ASSERT_EQ(entry->secret.size(), 48u);
  EXPECT_EQ(ToHex(entry->secret.span()), master);
}

TEST(KeyLogTest, ParsesTls13TrafficSecretsOfBothHashLengths) {
  const std::string secret32 = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
  absl::StatusOr<KeyLogEntry> client =
      ParseKeyLogLine("CLIENT_TRAFFIC_SECRET_0 " + kRandom + " " + secret32);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->label, KeyLogLabel::kClientTrafficSecret0);
  EXPECT_EQ(ToHex(client->secret.span()),
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

  const std::string secret48(96, '7');
  absl::StatusOr<KeyLogEntry> server =
      ParseKeyLogLine("SERVER_TRAFFIC_SECRET_0 " + kRandom + " " + secret48);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->label, KeyLogLabel::kServerTrafficSecret0);
  EXPECT_EQ(server->secret.size(), 48u);
}

TEST(KeyLogTest, OtherLabelsParseButAreMarkedOther) {
  for (const char* label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                            "EXPORTER_SECRET", "CLIENT_TRAFFIC_SECRET_1"}) {
    absl::StatusOr<KeyLogEntry> entry =
        ParseKeyLogLine(std::string(label) + " " + kRandom + " " + std::string(64, '1'));
    ASSERT_TRUE(entry.ok()) << label << ": " << entry.status();
    EXPECT_EQ(entry->label, KeyLogLabel::kOther) << label;
  }
}

TEST(KeyLogTest, MalformedLinesFailWithoutQuotingTheSecret) {
  const std::string secret = "d3adb33f" + std::string(56, 'c');
  struct Case {
    std::string line;
    std::string message;
  } cases[] = {
      {"CLIENT_RANDOM", "key log line has no fields after the label"},
      {"CLIENT_RANDOM " + kRandom, "key log line CLIENT_RANDOM has no secret"},
      {"CLIENT_TRAFFIC_SECRET_0 abcd " + secret,
       "key log line CLIENT_TRAFFIC_SECRET_0: client random is not 64 hex digits (4 characters)"},
      {"CLIENT_TRAFFIC_SECRET_0 " + std::string(63, 'a') + "g " + secret,
       "key log line CLIENT_TRAFFIC_SECRET_0: client random is not 64 hex digits (64 "
       "characters)"},
      {"CLIENT_TRAFFIC_SECRET_0 " + kRandom + " " + secret + "0",
       "key log line CLIENT_TRAFFIC_SECRET_0: secret of 65 hex digits; expected an even 2 to 96"},
      {"CLIENT_TRAFFIC_SECRET_0 " + kRandom + " " + secret + std::string(34, '0'),
       "key log line CLIENT_TRAFFIC_SECRET_0: secret of 98 hex digits; expected an even 2 to 96"},
      {"CLIENT_TRAFFIC_SECRET_0 " + kRandom + " ", 
       "key log line CLIENT_TRAFFIC_SECRET_0: secret of 0 hex digits; expected an even 2 to 96"},
      {"SERVER_TRAFFIC_SECRET_0 " + kRandom + " " + secret.substr(0, 62) + "zz",
       "key log line SERVER_TRAFFIC_SECRET_0: secret is not hex"},
      {"CLIENT_RANDOM " + kRandom + " " + secret,
       "key log line CLIENT_RANDOM: master secret of 32 bytes; RFC 5246 8.1 makes it 48"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KeyLogEntry> entry = ParseKeyLogLine(c.line);
    ASSERT_FALSE(entry.ok()) << c.line;
    EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(entry.status().message(), c.message);
    EXPECT_THAT(std::string(entry.status().message()), Not(HasSubstr("d3adb33f")));
  }
}

}  // namespace
}  // namespace sstp::tls
