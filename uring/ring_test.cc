#include "uring/ring.h"

#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "uring/buffer_ring.h"
#include "uring/timer.h"

namespace sstp::uring {
namespace {

struct Recorder final : Completion {
  void OnComplete(int32_t r, uint32_t f) override {
    results.push_back(r);
    flags.push_back(f);
  }
  std::vector<int32_t> results;
  std::vector<uint32_t> flags;
};

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(64);
    ASSERT_TRUE(ring.ok()) << ring.status();
    ring_ = std::move(*ring);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    read_end_.reset(fds[0]);
    write_end_.reset(fds[1]);
  }

  // Runs the loop until `done` or 2 s of waiting pass.
  template <typename Pred>
  void RunUntil(Pred done) {
    for (int i = 0; i < 200 && !done(); ++i) {
      ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(10)).ok());
    }
  }

  std::unique_ptr<Ring> ring_;
  UniqueFd read_end_, write_end_;
};

TEST_F(RingTest, ProbesTheOperationsTheDataPlaneNeeds) {
  const Features& f = ring_->features();
  // The project targets Linux >= 6.1 (Debian 12); these have been there since 5.6.
  EXPECT_TRUE(f.op_read && f.op_write && f.op_send && f.op_recvmsg && f.op_sendmsg && f.op_timeout)
      << f.ToString();
  EXPECT_FALSE(f.ToString().empty());
}

TEST_F(RingTest, WriteThenReadThroughThePipe) {
  Recorder write_done, read_done;
  const std::string message = "sstp";
  io_uring_prep_write(ring_->NextSqe(&write_done), write_end_.get(), message.data(), message.size(), 0);
  char buffer[16] = {};
  io_uring_prep_read(ring_->NextSqe(&read_done), read_end_.get(), buffer, sizeof(buffer), 0);
  RunUntil([&] { return !write_done.results.empty() && !read_done.results.empty(); });
  ASSERT_EQ(write_done.results, std::vector<int32_t>{4});
  ASSERT_EQ(read_done.results, std::vector<int32_t>{4});
  EXPECT_EQ(std::string(buffer, 4), "sstp");
}

TEST_F(RingTest, ErrorsArriveAsNegativeErrno) {
  Recorder done;
  char buffer[4];
  io_uring_prep_read(ring_->NextSqe(&done), write_end_.get(), buffer, sizeof(buffer), 0);
  RunUntil([&] { return !done.results.empty(); });
  ASSERT_EQ(done.results.size(), 1u);
  EXPECT_EQ(done.results[0], -EBADF) << "reading a pipe's write end";
}

TEST_F(RingTest, NextSqeSubmitsWhenTheQueueIsFull) {
  Recorder done;
  // More no-ops than the 64-entry SQ holds.
  for (int i = 0; i < 200; ++i) io_uring_prep_nop(ring_->NextSqe(&done));
  RunUntil([&] { return done.results.size() == 200; });
  EXPECT_EQ(done.results.size(), 200u);
}

TEST_F(RingTest, TimerFiresOnce) {
  int fired = 0;
  Timer timer(*ring_, [&] { ++fired; });
  timer.Arm(absl::Milliseconds(5));
  EXPECT_TRUE(timer.armed());
  RunUntil([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  // Nothing more arrives.
  ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(20)).ok());
  EXPECT_EQ(fired, 1);
}

TEST_F(RingTest, CancelledTimerNeverFires) {
  int fired = 0;
  Timer timer(*ring_, [&] { ++fired; });
  timer.Arm(absl::Milliseconds(20));
  timer.Cancel();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(10)).ok());
  EXPECT_EQ(fired, 0);
  EXPECT_FALSE(timer.armed());
}

TEST_F(RingTest, ReArmMovesTheDeadline) {
  int fired = 0;
  Timer timer(*ring_, [&] { ++fired; });
  timer.Arm(absl::Milliseconds(5));
  timer.Arm(absl::Seconds(100));  // Pushed far out: must not fire soon.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(10)).ok());
  EXPECT_EQ(fired, 0);
  timer.Arm(absl::Milliseconds(1));
  RunUntil([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
}

TEST_F(RingTest, CancelThenArmFiresOnce) {
  int fired = 0;
  Timer timer(*ring_, [&] { ++fired; });
  timer.Arm(absl::Seconds(100));
  timer.Cancel();
  timer.Arm(absl::Milliseconds(2));
  RunUntil([&] { return fired > 0; });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring_->RunOnce(1, absl::Milliseconds(5)).ok());
  EXPECT_EQ(fired, 1);
}

TEST_F(RingTest, BufferRingLendsBuffersToReads) {
  if (!ring_->features().provided_buffer_rings) {
    GTEST_SKIP() << "kernel without provided buffer rings (needs 5.19+)";
  }
  absl::StatusOr<std::unique_ptr<BufferRing>> br = BufferRing::Create(*ring_, 7, 4, 64);
  ASSERT_TRUE(br.ok()) << br.status();
  Recorder done;
  for (int i = 0; i < 2; ++i) {
    io_uring_sqe* sqe = ring_->NextSqe(&done);
    io_uring_prep_read(sqe, read_end_.get(), nullptr, 64, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = (*br)->group_id();
  }
  ASSERT_TRUE(ring_->Submit().ok());
  ASSERT_EQ(write(write_end_.get(), "first", 5), 5);
  RunUntil([&] { return done.results.size() == 1; });
  ASSERT_EQ(write(write_end_.get(), "second", 6), 6);
  RunUntil([&] { return done.results.size() == 2; });
  ASSERT_EQ(done.results, (std::vector<int32_t>{5, 6}));
  ASSERT_TRUE(BufferRing::HasBuffer(done.flags[0]));
  ASSERT_TRUE(BufferRing::HasBuffer(done.flags[1]));
  const uint16_t a = BufferRing::BufferId(done.flags[0]);
  const uint16_t b = BufferRing::BufferId(done.flags[1]);
  EXPECT_NE(a, b);
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*br)->Buffer(a).data()), 5), "first");
  EXPECT_EQ(std::string(reinterpret_cast<char*>((*br)->Buffer(b).data()), 6), "second");
  (*br)->Recycle(a);
  (*br)->Recycle(b);
}

TEST_F(RingTest, BufferRingLeavesHeadroom) {
  if (!ring_->features().provided_buffer_rings) {
    GTEST_SKIP() << "kernel without provided buffer rings (needs 5.19+)";
  }
  absl::StatusOr<std::unique_ptr<BufferRing>> br = BufferRing::Create(*ring_, 3, 2, 32, 8);
  ASSERT_TRUE(br.ok()) << br.status();
  Recorder done;
  io_uring_sqe* sqe = ring_->NextSqe(&done);
  io_uring_prep_read(sqe, read_end_.get(), nullptr, 32, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = (*br)->group_id();
  ASSERT_EQ(write(write_end_.get(), std::string(30, 'x').data(), 30), 30);
  RunUntil([&] { return !done.results.empty(); });
  ASSERT_EQ(done.results, std::vector<int32_t>{24}) << "32-byte buffers minus 8 of headroom";
  absl::Span<uint8_t> buffer = (*br)->Buffer(BufferRing::BufferId(done.flags[0]));
  EXPECT_EQ(buffer.size(), 32u);
  EXPECT_EQ(buffer[8], 'x');
  EXPECT_NE(buffer[7], 'x');
}

TEST(BufferRingTest, RejectsCountsThatAreNotPowersOfTwo) {
  absl::StatusOr<std::unique_ptr<Ring>> ring = Ring::Create(8);
  ASSERT_TRUE(ring.ok());
  absl::StatusOr<std::unique_ptr<BufferRing>> br = BufferRing::Create(**ring, 1, 3, 64);
  EXPECT_EQ(br.status().message(), "buffer ring count 3 is not a power of two <= 32768");
  br = BufferRing::Create(**ring, 1, 4, 64, 64);
  EXPECT_EQ(br.status().message(), "buffer ring headroom 64 >= buffer size 64");
}

}  // namespace
}  // namespace sstp::uring
