// sstp-ktls: the command-line entry point. The CLI is a table of commands;
// usage text is generated from it. main() parses, dispatches, and maps the
// outcome to the documented exit codes (README.md).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "daemon/config/profile.h"
#include "daemon/exit_codes.h"
#include "daemon/selftest.h"

namespace sstp {
namespace {

struct Command {
  const char* name;
  const char* arguments;
  const char* help;
  int (*run)(const std::vector<std::string>& args);
};

int Usage(FILE* out);

int RunCheck(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage(stderr);
  absl::StatusOr<config::Profile> profile = config::LoadProfile(args[0]);
  if (!profile.ok()) {
    std::fprintf(stderr, "sstp-ktls: %s\n", std::string(profile.status().message()).c_str());
    return kExitUsage;
  }
  std::fputs(config::DescribeProfile(*profile).c_str(), stdout);
  return kExitOk;
}

int RunSelfTestCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(stderr);
  return RunSelfTest(stdout) == 0 ? kExitOk : kExitFailure;
}

int RunVersion(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage(stderr);
  std::printf("sstp-ktls %s\n", SSTP_KTLS_VERSION);
  return kExitOk;
}

int RunHelp(const std::vector<std::string>&) {
  Usage(stdout);
  return kExitOk;
}

const Command kCommands[] = {
    {"check", "PROFILE", "validate a profile and print it with all defaults", RunCheck},
    {"selftest", "", "run the published test vectors through this build", RunSelfTestCommand},
    {"version", "", "print the version", RunVersion},
    {"help", "", "list the commands", RunHelp},
};

int Usage(FILE* out) {
  std::fprintf(out, "usage: sstp-ktls COMMAND [ARGS]\n\ncommands:\n");
  for (const Command& c : kCommands) {
    const std::string synopsis = std::string(c.name) + (*c.arguments ? " " : "") + c.arguments;
    std::fprintf(out, "  %-24s %s\n", synopsis.c_str(), c.help);
  }
  return out == stdout ? kExitOk : kExitUsage;
}

}  // namespace
}  // namespace sstp

int main(int argc, char** argv) {
  if (argc < 2) return sstp::Usage(stderr);
  const absl::string_view name = argv[1];
  for (const sstp::Command& command : sstp::kCommands) {
    if (name == command.name) {
      return command.run(std::vector<std::string>(argv + 2, argv + argc));
    }
  }
  std::fprintf(stderr, "sstp-ktls: unknown command '%s'\n\n", argv[1]);
  return sstp::Usage(stderr);
}
