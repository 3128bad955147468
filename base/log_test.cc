#include "base/log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sstp {
namespace {

struct Line {
  LogLevel level;
  std::string context;
  std::string message;
};

class CapturingSink : public LogSink {
 public:
  void Write(LogLevel level, absl::string_view context, absl::string_view message) override {
    lines.push_back({level, std::string(context), std::string(message)});
  }
  std::vector<Line> lines;
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_sink_ = SetLogSink(&sink_);
    previous_level_ = GetLogLevel();
  }
  void TearDown() override {
    SetLogSink(previous_sink_);
    SetLogLevel(previous_level_);
  }
  CapturingSink sink_;
  LogSink* previous_sink_ = nullptr;
  LogLevel previous_level_ = LogLevel::kNotice;
};

TEST_F(LogTest, CarriesContextAndFiltersByLevel) {
  SetLogLevel(LogLevel::kInfo);
  Logger log("office");
  log.Notice("connected to %s:%d", "vpn.example.com", 443);
  log.Debug("not shown %d", 1);
  ASSERT_EQ(sink_.lines.size(), 1u);
  EXPECT_EQ(sink_.lines[0].level, LogLevel::kNotice);
  EXPECT_EQ(sink_.lines[0].context, "office");
  EXPECT_EQ(sink_.lines[0].message, "connected to vpn.example.com:443");
  SetLogLevel(LogLevel::kDebug);
  log.Debug("shown %d", 2);
  ASSERT_EQ(sink_.lines.size(), 2u);
  EXPECT_EQ(sink_.lines[1].message, "shown 2");
}

TEST(LogLevelTest, ParsesNames) {
  LogLevel level;
  ASSERT_TRUE(ParseLogLevel("warning", &level));
  EXPECT_EQ(level, LogLevel::kWarning);
  EXPECT_EQ(LogLevelName(level), "warning");
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
}

}  // namespace
}  // namespace sstp
