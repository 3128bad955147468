#include "base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace sstp {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFdTest, ClosesOnDestructionAndMoves) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.get(), fds[0]);
    EXPECT_TRUE(IsOpen(fds[0]));
  }
  EXPECT_FALSE(IsOpen(fds[0]));
  UniqueFd c(fds[1]);
  int raw = c.release();
  EXPECT_FALSE(c.valid());
  EXPECT_TRUE(IsOpen(raw));
  close(raw);
}

TEST(UniqueFdTest, ResetClosesPrevious) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd a(fds[0]);
  a.reset(fds[1]);
  EXPECT_FALSE(IsOpen(fds[0]));
  EXPECT_TRUE(IsOpen(fds[1]));
  a.reset();
  EXPECT_FALSE(IsOpen(fds[1]));
}

}  // namespace
}  // namespace sstp
