// TUN devices: the kernel side of the tunnel. The daemon reads IP packets
// the host routes into the TUN and writes the packets that arrive through
// the tunnel (Documentation/networking/tuntap.rst).
//
// CreateTun only ever creates a new interface: it refuses a name that is in
// use (by anything, including someone else's persistent TUN), so what
// sstp-ktls tears down is always its own device. The device is not
// persistent: it disappears, with its addresses and routes, when the last
// queue fd is closed, so even a crashed daemon leaves nothing behind.
#ifndef SSTP_KTLS_NETLINK_TUN_H_
#define SSTP_KTLS_NETLINK_TUN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/unique_fd.h"

namespace sstp::netlink {

struct TunOptions {
  // The TUN clone device (tuntap.rst); another path only for containers that
  // put it elsewhere, and for tests.
  std::string device_path = "/dev/net/tun";
  // O_NONBLOCK on the fd. Off by default: the io_uring data plane reads with
  // provided buffers and needs a blocking fd, so that an empty queue parks
  // the read on the ring's poll instead of failing it with EAGAIN.
  bool non_blocking = false;
  // IFF_MULTI_QUEUE: more queues can be attached with AttachTunQueue, one per
  // data-plane thread.
  bool multi_queue = false;
  // Offloads: IFF_VNET_HDR (every packet read or written starts with a
  // struct virtio_net_hdr, little-endian by TUNSETVNETLE), then
  // TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), so reads may be TCP
  // super-packets of up to 64 KiB with a partial checksum, and writes may be
  // joined segments (KTLS-NOTES.md "TUN"; daemon/dataplane/offload.h).
  bool offload = false;
};

struct Tun {
  UniqueFd fd;       // The first queue; closing it (and every attached
                     // queue) deletes the interface.
  std::string name;  // As the kernel named it ("tun%d" templates expanded).
  // options.offload was asked for and the kernel took TUNSETOFFLOAD: reads
  // may be super-packets. (Writes with a virtio_net_hdr work either way.)
  bool offload_active = false;
  int ifindex = 0;
  TunOptions options;
};

// Checks `name` as the kernel's dev_valid_name() does (1..15 bytes, not "."
// or "..", no '/', ':' or white space), so the error names the problem
// instead of TUNSETIFF's bare EINVAL. A "%d" in the name is a kernel template.
absl::Status CheckInterfaceName(absl::string_view name);

// Opens options.device_path (O_CLOEXEC) and creates TUN `name` with IFF_TUN |
// IFF_NO_PI | IFF_TUN_EXCL (+ options). A kernel that refuses TUNSETOFFLOAD
// leaves the TUN with virtio_net_hdr framing and no super-packets
// (offload_active false), which the data plane handles alike. Errors:
//  - AlreadyExists "interface office0 already exists (ifindex 3); refusing to
//    attach to a device sstp-ktls did not create" when the name is in use;
//  - NotFound when the device node is missing or the tun driver is not loaded,
//    saying so;
//  - PermissionDenied without CAP_NET_ADMIN.
absl::StatusOr<Tun> CreateTun(absl::string_view name, const TunOptions& options = {});

// Opens one more queue of a multi-queue TUN created by CreateTun, and checks
// that it joined that very interface (same ifindex).
absl::StatusOr<UniqueFd> AttachTunQueue(const Tun& tun);

}  // namespace sstp::netlink

#endif  // SSTP_KTLS_NETLINK_TUN_H_
