// A small leveled logger whose every line carries a context name (the
// profile or interface), so that logs of several tunnels can be told apart.
//
// Levels mean:
//   kError   the session or command failed; the user must act.
//   kWarning something is degraded or insecure but the session goes on
//            (e.g. kTLS unavailable, certificate verification disabled).
//   kNotice  a state change a user wants to see (connected, addresses).
//   kInfo    protocol progress (LCP up, auth method chosen).
//   kDebug   per-message detail. Never secrets, at any level.
//
// Output goes to a process-wide sink (stderr by default); tests install a
// capturing sink. Thread-safe.
#ifndef SSTP_KTLS_BASE_LOG_H_
#define SSTP_KTLS_BASE_LOG_H_

#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/strings/str_format.h"

namespace sstp {

enum class LogLevel { kError = 0, kWarning = 1, kNotice = 2, kInfo = 3, kDebug = 4 };

absl::string_view LogLevelName(LogLevel level);
// Parses "error", "warning", "notice", "info", "debug".
bool ParseLogLevel(absl::string_view text, LogLevel* out);

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(LogLevel level, absl::string_view context, absl::string_view message) = 0;
};

// Sets the process-wide sink; nullptr restores stderr. The sink must outlive
// its use. Returns the previous sink (nullptr for stderr).
LogSink* SetLogSink(LogSink* sink);
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

class Logger {
 public:
  explicit Logger(std::string context) : context_(std::move(context)) {}

  const std::string& context() const { return context_; }
  bool Enabled(LogLevel level) const { return level <= GetLogLevel(); }

  template <typename... Args>
  void Log(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) const {
    if (Enabled(level)) Emit(level, absl::StrFormat(format, args...));
  }
  template <typename... Args>
  void Error(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kError, format, args...);
  }
  template <typename... Args>
  void Warning(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kWarning, format, args...);
  }
  template <typename... Args>
  void Notice(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kNotice, format, args...);
  }
  template <typename... Args>
  void Info(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kInfo, format, args...);
  }
  template <typename... Args>
  void Debug(const absl::FormatSpec<Args...>& format, const Args&... args) const {
    Log(LogLevel::kDebug, format, args...);
  }

 private:
  void Emit(LogLevel level, const std::string& message) const;

  std::string context_;
};

}  // namespace sstp

#endif  // SSTP_KTLS_BASE_LOG_H_
