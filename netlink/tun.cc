#include "netlink/tun.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink {
namespace {

absl::StatusOr<UniqueFd> OpenTunDevice(const TunOptions& options) {
  int flags = O_RDWR | O_CLOEXEC;
  if (options.non_blocking) flags |= O_NONBLOCK;
  int fd;
  do {
    fd = open(options.device_path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) return UniqueFd(fd);
  const int error = errno;
  const absl::Status status = ErrnoStatus(error, absl::StrCat("open(", options.device_path, ")"));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(
          absl::StrCat(status.message(),
                       ": the TUN device node is missing (kernel without CONFIG_TUN, "
                       "or the tun module not loaded: modprobe tun)"));
    case ENODEV:
    case ENXIO:
      return absl::NotFoundError(
          absl::StrCat(status.message(), ": the tun driver is not loaded (modprobe tun)"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(
          absl::StrCat(status.message(), ": creating a TUN device needs CAP_NET_ADMIN"));
    default:
      return status;
  }
}

void FillName(absl::string_view name, ifreq* ifr) {
  // CheckInterfaceName() guaranteed name.size() < IFNAMSIZ; the rest of
  // ifr_name stays zero.
  std::memcpy(ifr->ifr_name, name.data(), name.size());
}

}  // namespace

absl::Status CheckInterfaceName(absl::string_view name) {
  // net/core/dev.c dev_valid_name().
  const std::string quoted = absl::StrCat("interface name \"", name, "\"");
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(quoted, " is empty"));
  if (name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted, " is longer than ", IFNAMSIZ - 1, " bytes"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat(quoted, " is not allowed"));
  }
  for (const char c : name) {
    if (c == '/' || c == ':') {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, " contains '", std::string(1, c), "'"));
    }
    if (c == '\0' || std::isspace(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(quoted, " contains white space or NUL"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Tun> CreateTun(absl::string_view name, const TunOptions& options) {
  RETURN_IF_ERROR(CheckInterfaceName(name));
  ASSIGN_OR_RETURN(UniqueFd fd, OpenTunDevice(options));

  ifreq ifr{};
  FillName(name, &ifr);
  // IFF_TUN_EXCL: fail with EBUSY if any interface of that name exists,
  // atomically, instead of attaching to an existing persistent TUN (which
  // someone else configured and which we would later tear down).
  int flags = IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL;
  if (options.multi_queue) flags |= IFF_MULTI_QUEUE;
  if (options.offload) flags |= IFF_VNET_HDR;
  ifr.ifr_flags = static_cast<short>(flags);
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    const int error = errno;
    const std::string what = absl::StrCat("TUNSETIFF ", name);
    if (error == EBUSY) {
      const unsigned existing = if_nametoindex(std::string(name).c_str());
      return absl::AlreadyExistsError(
          absl::StrCat(what, ": interface ", name, " already exists",
                       existing != 0 ? absl::StrCat(" (ifindex ", existing, ")") : std::string(),
                       "; refusing to attach to a device sstp-ktls did not create"));
    }
    if (error == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrCat(ErrnoStatus(error, what).message(), ": needs CAP_NET_ADMIN"));
    }
    return ErrnoStatus(error, what);
  }

  Tun tun;
  tun.fd = std::move(fd);
  tun.name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  tun.options = options;
  const unsigned ifindex = if_nametoindex(tun.name.c_str());
  if (ifindex == 0) return LastErrnoStatus(absl::StrCat("if_nametoindex(", tun.name, ")"));
  tun.ifindex = static_cast<int>(ifindex);
  if (options.offload) {
    // Little-endian virtio_net_hdr fields on every host (the default is
    // native order, big-endian on s390x and friends).
    int little_endian = 1;
    if (ioctl(tun.fd.get(), TUNSETVNETLE, &little_endian) < 0) {
      return LastErrnoStatus(absl::StrCat("TUNSETVNETLE ", tun.name));
    }
    // No TUN_F_TSO_ECN: ECN super-packets are cut by the kernel; no UFO/USO:
    // UDP is never coalesced here.
    const unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    tun.offload_active = ioctl(tun.fd.get(), TUNSETOFFLOAD, offloads) == 0;
  }
  return tun;
}

absl::StatusOr<UniqueFd> AttachTunQueue(const Tun& tun) {
  const std::string what = absl::StrCat("TUNSETIFF ", tun.name, " (attach queue)");
  if (!tun.options.multi_queue) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": TUN is not multi-queue"));
  }
  RETURN_IF_ERROR(CheckInterfaceName(tun.name));
  // TUNSETIFF has no "attach only": on a free name it creates a new device.
  // Check first, and again after (the name could be reused in between).
  const unsigned before = if_nametoindex(tun.name.c_str());
  if (before != static_cast<unsigned>(tun.ifindex)) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": interface is ifindex ", before,
                                                      ", not the TUN we created (ifindex ",
                                                      tun.ifindex, ")"));
  }
  ASSIGN_OR_RETURN(UniqueFd fd, OpenTunDevice(tun.options));
  ifreq ifr{};
  FillName(tun.name, &ifr);
  int flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
  if (tun.options.offload) flags |= IFF_VNET_HDR;
  ifr.ifr_flags = static_cast<short>(flags);
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return LastErrnoStatus(what);
  const unsigned ifindex = if_nametoindex(tun.name.c_str());
  if (ifindex != static_cast<unsigned>(tun.ifindex)) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": joined ifindex ", ifindex,
                                                      ", not the TUN we created (ifindex ",
                                                      tun.ifindex, ")"));
  }
  return fd;
}

}  // namespace sstp::netlink
