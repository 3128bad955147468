#include "base/status.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace sstp {
namespace {

absl::StatusCode CodeForErrno(int errno_value) {
  switch (errno_value) {
    case 0:
      return absl::StatusCode::kOk;
    case EINVAL:
    case EBADMSG:
    case EPROTO:
      return absl::StatusCode::kInvalidArgument;
    case ENOENT:
    case ENODEV:
    case ENXIO:
    case ESRCH:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
      return absl::StatusCode::kResourceExhausted;
    case EAGAIN:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EPIPE:
      return absl::StatusCode::kUnavailable;
    case ETIMEDOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case EBUSY:
      return absl::StatusCode::kFailedPrecondition;
    case ENOSYS:
    case EOPNOTSUPP:
    case ENOPROTOOPT:
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
      return absl::StatusCode::kUnimplemented;
    case ECANCELED:
      return absl::StatusCode::kCancelled;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ErrnoStatus(int errno_value, absl::string_view what) {
  if (errno_value == 0) return absl::OkStatus();
  char buffer[128];
  // GNU strerror_r returns a pointer that may or may not be `buffer`.
  const char* text = strerror_r(errno_value, buffer, sizeof(buffer));
  return absl::Status(CodeForErrno(errno_value),
                      absl::StrCat(what, ": ", text, " (errno ", errno_value, ")"));
}

absl::Status LastErrnoStatus(absl::string_view what) {
  return ErrnoStatus(errno, what);
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace sstp
