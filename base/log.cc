#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace sstp {
namespace {

std::atomic<LogSink*> g_sink{nullptr};
std::atomic<int> g_level{static_cast<int>(LogLevel::kNotice)};
std::mutex g_stderr_mutex;

constexpr absl::string_view kNames[] = {"error", "warning", "notice", "info", "debug"};

}  // namespace

absl::string_view LogLevelName(LogLevel level) { return kNames[static_cast<int>(level)]; }

bool ParseLogLevel(absl::string_view text, LogLevel* out) {
  for (int i = 0; i < 5; ++i) {
    if (text == kNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

LogSink* SetLogSink(LogSink* sink) { return g_sink.exchange(sink); }
void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void Logger::Emit(LogLevel level, const std::string& message) const {
  if (LogSink* sink = g_sink.load()) {
    sink->Write(level, context_, message);
    return;
  }
  std::lock_guard<std::mutex> lock(g_stderr_mutex);
  const absl::string_view name = LogLevelName(level);
  std::fprintf(stderr, "%s %.*s: %s\n", context_.c_str(), static_cast<int>(name.size()), name.data(),
               message.c_str());
}

}  // namespace sstp
