#include "base/status.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace sstp {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusTest, ErrnoStatusNamesOperationAndError) {
  absl::Status s = ErrnoStatus(ECONNREFUSED, "connect(127.0.0.1:443)");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "connect(127.0.0.1:443): Connection refused (errno 111)");
  EXPECT_EQ(ErrnoStatus(ENOENT, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoStatus(EPERM, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ErrnoStatus(0, "x").ok());
}

TEST(StatusTest, AnnotateKeepsCode) {
  absl::Status s = Annotate(absl::NotFoundError("no such user"), "MS-CHAPv2");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "MS-CHAPv2: no such user");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

}  // namespace
}  // namespace sstp
