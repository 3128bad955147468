#include "daemon/control/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::control {
namespace {

using ::testing::HasSubstr;

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/control_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/office.sock";
    stop_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    request_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    // Stands in for the session: answers status requests on its own thread.
    session_ = std::thread([this] {
      while (!quit_) {
        pollfd p{request_.get(), POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        uint64_t v;
        (void)!read(request_.get(), &v, sizeof(v));
        StatusSnapshot s;
        s.profile = "office";
        s.phase = "connected";
        s.tx_packets = ++requests_;
        s.addresses = {"192.168.90.2", "fe80::1/64"};
        s.last_error = "say \"hi\"\n";
        board_.Publish(s);
      }
    });
  }
  void TearDown() override {
    quit_ = true;
    session_.join();
    rmdir(dir_.c_str());
  }

  std::string dir_, path_;
  UniqueFd stop_, request_;
  StatusBoard board_;
  std::thread session_;
  std::atomic<bool> quit_{false};
  std::atomic<int> requests_{0};
};

TEST_F(ControlTest, StatusAsksTheSessionForAFreshSnapshot) {
  absl::StatusOr<std::unique_ptr<ControlServer>> server =
      ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> text = SendControlCommand(path_, "status", absl::Seconds(5));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("state:        connected"));
  EXPECT_THAT(*text, HasSubstr("addresses:    192.168.90.2, fe80::1/64"));
  EXPECT_THAT(*text, HasSubstr("sent:         1 packets"));
  absl::StatusOr<std::string> json = SendControlCommand(path_, "status-json", absl::Seconds(5));
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr("\"state\":\"connected\""));
  EXPECT_THAT(*json, HasSubstr("\"tx_packets\":2"));
  EXPECT_THAT(*json, HasSubstr("\"addresses\":[\"192.168.90.2\",\"fe80::1/64\"]"));
  EXPECT_THAT(*json, HasSubstr("\"last_error\":\"say \\\"hi\\\"\\n\""));
}

TEST_F(ControlTest, DownSignalsTheStopEvent) {
  absl::StatusOr<std::unique_ptr<ControlServer>> server =
      ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(*SendControlCommand(path_, "down", absl::Seconds(5)), "disconnecting\n");
  uint64_t value = 0;
  ASSERT_EQ(read(stop_.get(), &value, sizeof(value)), static_cast<ssize_t>(sizeof(value)));
  EXPECT_EQ(value, 1u);
  EXPECT_THAT(*SendControlCommand(path_, "reboot", absl::Seconds(5)), HasSubstr("unknown command"));
}

TEST_F(ControlTest, OneDaemonPerProfileAndTheSocketGoesAway) {
  {
    absl::StatusOr<std::unique_ptr<ControlServer>> first =
        ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
    ASSERT_TRUE(first.ok());
    absl::StatusOr<std::unique_ptr<ControlServer>> second =
        ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
    EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_THAT(std::string(second.status().message()), HasSubstr("already runs this profile"));
  }
  EXPECT_NE(access(path_.c_str(), F_OK), 0) << "socket file removed on shutdown";
  absl::StatusOr<std::string> reply = SendControlCommand(path_, "status", absl::Seconds(1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(reply.status().message()), HasSubstr("no sstp-ktls runs for this profile"));
}

TEST_F(ControlTest, ADaemonTooBusyToAnswerStillHoldsTheProfile) {
  // The profile's lock is what counts, not whether the socket answers in
  // time: here a stand-in holds the lock and nothing listens at all.
  const std::string lock_path = path_ + ".lock";
  const int held = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(held, 0);
  ASSERT_EQ(flock(held, LOCK_EX), 0);
  absl::StatusOr<std::unique_ptr<ControlServer>> refused =
      ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  close(held);  // As the kernel does when that daemon dies.
  {
    absl::StatusOr<std::unique_ptr<ControlServer>> server =
        ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(*SendControlCommand(path_, "ping", absl::Seconds(5)), "pong\n");
  }
  EXPECT_NE(access(lock_path.c_str(), F_OK), 0) << "lock file removed on shutdown";
}

TEST_F(ControlTest, StaleSocketFromACrashedDaemonIsReplaced) {
  // A bound socket nobody listens on, as a killed daemon leaves behind.
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path_.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  close(fd);
  absl::StatusOr<std::unique_ptr<ControlServer>> server =
      ControlServer::Start(path_, stop_.get(), request_.get(), &board_, Logger("t"));
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(*SendControlCommand(path_, "ping", absl::Seconds(5)), "pong\n");
}

TEST(ControlPathTest, RunDirComesFromTheEnvironment) {
  setenv("SSTP_KTLS_RUN_DIR", "/tmp/x", 1);
  EXPECT_EQ(ControlSocketPath("office"), "/tmp/x/office.sock");
  unsetenv("SSTP_KTLS_RUN_DIR");
  EXPECT_EQ(ControlSocketPath("office"), "/run/sstp-ktls/office.sock");
}

}  // namespace
}  // namespace sstp::control
