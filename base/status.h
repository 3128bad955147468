// Status helpers shared by every module.
//
// Module boundaries return absl::Status / absl::StatusOr<T>. These macros
// keep the happy path readable:
//
//   RETURN_IF_ERROR(writer.Flush());
//   ASSIGN_OR_RETURN(Packet packet, ParsePacket(bytes));
//
// errno becomes a Status only through ErrnoStatus(), so that every system
// error reads the same way: "<what>: <strerror> (errno N)".
#ifndef SSTP_KTLS_BASE_STATUS_H_
#define SSTP_KTLS_BASE_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sstp {

// Maps an errno value to the closest absl::StatusCode and a message that
// names the failed operation. `what` is e.g. "connect(10.0.0.1:443)".
absl::Status ErrnoStatus(int errno_value, absl::string_view what);

// Same as ErrnoStatus(errno, what): call it right after the failing call.
absl::Status LastErrnoStatus(absl::string_view what);

// Returns `status` with `context + ": "` put in front of its message, keeping
// the code. OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace sstp

#define SSTP_STATUS_CONCAT_INNER_(a, b) a##b
#define SSTP_STATUS_CONCAT_(a, b) SSTP_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the current function
// if it is not OK.
#define RETURN_IF_ERROR(expr)                                 \
  do {                                                        \
    ::absl::Status sstp_status_macro_value_ = (expr);         \
    if (!sstp_status_macro_value_.ok()) {                     \
      return sstp_status_macro_value_;                        \
    }                                                         \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                          \
  SSTP_ASSIGN_OR_RETURN_IMPL_(SSTP_STATUS_CONCAT_(sstp_statusor_, __LINE__), \
                              lhs, rexpr)

#define SSTP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()

#endif  // SSTP_KTLS_BASE_STATUS_H_
