#include "daemon/session/dns.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::session {
namespace {

using ::testing::HasSubstr;

// Puts fake resolvectl and resolvconf first in PATH; each appends its argv
// (and stdin, for resolvconf) to calls.log.
class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/dns_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    for (const char* name : {"resolvectl", "resolvconf"}) {
      const std::string path = dir_ + "/" + name;
      std::ofstream(path) << "#!/bin/sh\necho \"" << name << " $*\" >> " << dir_
                          << "/calls.log\n[ \"$1\" = -a ] && sed 's/^/  /' >> " << dir_
                          << "/calls.log\n[ -e " << dir_ << "/fail ] && { echo 'broken on purpose' >&2; exit 3; }\nexit 0\n";
      chmod(path.c_str(), 0755);
    }
    old_path_ = std::getenv("PATH");
    setenv("PATH", (dir_ + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override {
    setenv("PATH", old_path_.c_str(), 1);
    unsetenv("SSTP_KTLS_DNS_BACKEND");
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string Calls() {
    std::ifstream f(dir_ + "/calls.log");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  std::string dir_, old_path_;
};

TEST_F(DnsTest, ResolvedGetsServersAndRoutingDomainThenReverts) {
  setenv("SSTP_KTLS_DNS_BACKEND", "resolved", 1);
  {
    DnsConfigurator dns(Logger("t"));
    EXPECT_EQ(dns.backend(), DnsConfigurator::Backend::kResolved);
    ASSERT_TRUE(dns.Apply("office0", {"192.168.90.53", "192.168.90.54"}, true).ok());
    EXPECT_EQ(Calls(),
              "resolvectl dns office0 192.168.90.53 192.168.90.54\n"
              "resolvectl domain office0 ~.\n");
  }  // The destructor reverts what Apply did.
  EXPECT_THAT(Calls(), HasSubstr("resolvectl revert office0\n"));
}

TEST_F(DnsTest, ResolvconfGetsNameserverLinesAndIsRemoved) {
  setenv("SSTP_KTLS_DNS_BACKEND", "resolvconf", 1);
  DnsConfigurator dns(Logger("t"));
  ASSERT_TRUE(dns.Apply("office0", {"192.168.90.53"}, false).ok());
  ASSERT_TRUE(dns.Revert().ok());
  ASSERT_TRUE(dns.Revert().ok()) << "a second revert does nothing";
  EXPECT_EQ(Calls(),
            "resolvconf -a office0.sstp-ktls\n"
            "  nameserver 192.168.90.53\n"
            "resolvconf -d office0.sstp-ktls\n");
}

TEST_F(DnsTest, NoBackendChangesNothing) {
  setenv("SSTP_KTLS_DNS_BACKEND", "none", 1);
  DnsConfigurator dns(Logger("t"));
  ASSERT_TRUE(dns.Apply("office0", {"192.168.90.53"}, true).ok());
  ASSERT_TRUE(dns.Revert().ok());
  EXPECT_EQ(Calls(), "");
}

TEST_F(DnsTest, FailureNamesTheCommandAndItsMessage) {
  setenv("SSTP_KTLS_DNS_BACKEND", "resolvconf", 1);
  std::ofstream(dir_ + "/fail") << "";
  DnsConfigurator dns(Logger("t"));
  const absl::Status s = dns.Apply("office0", {"192.168.90.53"}, false);
  EXPECT_EQ(s.message(), "resolvconf -a office0.sstp-ktls: exit status 3: broken on purpose");
  EXPECT_TRUE(dns.Revert().ok()) << "nothing was applied, nothing to revert";
}

TEST(RunCommandTest, HungCommandIsKilledAtTheTimeout) {
  const absl::Time start = absl::Now();
  const absl::Status s = RunCommand({"sleep", "30"}, "", absl::Milliseconds(300));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "sleep 30: still running after 300ms; killed");
}

TEST(RunCommandTest, CommandThatLeavesABackgroundChildBehindStillSucceeds) {
  // The command exits at once; what it started keeps the output pipe open.
  const absl::Status s = RunCommand({"sh", "-c", "sleep 3 & exit 0"}, "", absl::Milliseconds(300));
  EXPECT_TRUE(s.ok()) << s;
}

TEST(RunCommandTest, CommandRunsWithNoSignalBlockedOrIgnored) {
  // As main() leaves them for its signal thread.
  sigset_t blocked, old;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &old), 0);
  const auto old_pipe = signal(SIGPIPE, SIG_IGN);
  // /proc/self/status of the command: SigBlk and SigIgn must be all zero.
  const absl::Status s = RunCommand(
      {"awk", "/^Sig(Blk|Ign):/ && $2 != \"0000000000000000\" { print > \"/dev/stderr\"; bad = 1 }"
              " END { exit bad }",
       "/proc/self/status"});
  signal(SIGPIPE, old_pipe);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_TRUE(s.ok()) << s;
}

TEST(RunCommandTest, MissingProgramIsAClearError) {
  const absl::Status s = RunCommand({"/nonexistent/program", "x"});
  EXPECT_EQ(s.message(),
            "/nonexistent/program x: exit status 127: cannot run: No such file or directory");
}

}  // namespace
}  // namespace sstp::session
