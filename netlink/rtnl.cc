#include "netlink/rtnl.h"

#include <libmnl/libmnl.h>
#include <net/if.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink {
namespace {

// Dump replies come in datagrams the kernel sizes after our receive buffer,
// up to 32 KiB (af_netlink.c); a smaller buffer would truncate them.
constexpr size_t kReceiveBufferSize = 32768;
constexpr int kDumpAttempts = 5;
// absl::Status payload key carrying the kernel's errno as decimal text.
constexpr char kErrnoPayload[] = "type.sstp-ktls/netlink.errno";

// State of one request while its replies are read.
struct Exchange {
  const Rtnl::ReplyHandler* on_reply = nullptr;
  absl::Status handler_status;   // First error from on_reply.
  absl::Status protocol_status;  // A malformed ERROR/DONE message.
  std::optional<NetlinkError> result;
};

int OnData(const nlmsghdr* message, void* data) {
  auto* exchange = static_cast<Exchange*>(data);
  if (exchange->on_reply != nullptr && *exchange->on_reply) {
    absl::Status status = (*exchange->on_reply)(message);
    if (!status.ok() && exchange->handler_status.ok()) exchange->handler_status = status;
  }
  // Keep reading even after a handler error: the rest of the reply must be
  // drained so that the next request does not find it in the socket.
  return MNL_CB_OK;
}

int OnError(const nlmsghdr* message, void* data) {
  auto* exchange = static_cast<Exchange*>(data);
  absl::StatusOr<NetlinkError> error = ParseErrorMessage(message);
  if (error.ok()) {
    exchange->result = *std::move(error);
  } else {
    exchange->protocol_status = error.status();
  }
  return MNL_CB_STOP;
}

int OnDone(const nlmsghdr* message, void* data) {
  auto* exchange = static_cast<Exchange*>(data);
  absl::StatusOr<NetlinkError> done = ParseDoneMessage(message);
  if (done.ok()) {
    exchange->result = *std::move(done);
  } else {
    exchange->protocol_status = done.status();
  }
  return MNL_CB_STOP;
}

int OnOverrun(const nlmsghdr*, void* data) {
  static_cast<Exchange*>(data)->protocol_status =
      absl::DataLossError("NLMSG_OVERRUN: the kernel lost reply data");
  return MNL_CB_STOP;
}

// Skips families other than IPv4/IPv6 in an AF_UNSPEC dump: the family is
// the first byte of ifaddrmsg and of rtmsg.
bool IsIpFamilyMessage(const nlmsghdr* message) {
  if (mnl_nlmsg_get_payload_len(message) < 1) return false;
  const uint8_t family = *static_cast<const uint8_t*>(mnl_nlmsg_get_payload(message));
  return family == AF_INET || family == AF_INET6;
}

}  // namespace

std::optional<int> KernelErrno(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayload);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value)) return std::nullopt;
  return value;
}

void Rtnl::SocketCloser::operator()(mnl_socket* socket) const { mnl_socket_close(socket); }

Rtnl::Rtnl(std::unique_ptr<mnl_socket, SocketCloser> socket, uint32_t portid, uint32_t seq)
    : socket_(std::move(socket)), portid_(portid), seq_(seq), buffer_(kReceiveBufferSize) {}

Rtnl::Rtnl(Rtnl&&) noexcept = default;
Rtnl& Rtnl::operator=(Rtnl&&) noexcept = default;
Rtnl::~Rtnl() = default;

absl::StatusOr<Rtnl> Rtnl::Open() { return OpenProtocol(NETLINK_ROUTE); }

absl::StatusOr<Rtnl> Rtnl::OpenProtocol(int protocol) {
  const std::string name = protocol == NETLINK_ROUTE     ? "NETLINK_ROUTE"
                           : protocol == NETLINK_GENERIC ? "NETLINK_GENERIC"
                                                         : absl::StrCat("protocol ", protocol);
  std::unique_ptr<mnl_socket, SocketCloser> socket(mnl_socket_open2(protocol, SOCK_CLOEXEC));
  if (!socket) return LastErrnoStatus(absl::StrCat("netlink socket(", name, ")"));
  int one = 1;
  // Both are best effort: kernels before 4.12 lack NETLINK_EXT_ACK and then
  // errors come without the kernel's text, which is all that changes.
  (void)mnl_socket_setsockopt(socket.get(), NETLINK_EXT_ACK, &one, sizeof(one));
  (void)mnl_socket_setsockopt(socket.get(), NETLINK_CAP_ACK, &one, sizeof(one));
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return LastErrnoStatus(absl::StrCat("netlink bind(", name, ")"));
  }
  const uint32_t portid = mnl_socket_get_portid(socket.get());
  return Rtnl(std::move(socket), portid, 0);
}

std::string Rtnl::InterfaceName(int ifindex) {
  char name[IF_NAMESIZE] = {};
  if (ifindex > 0 && if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr) return name;
  return absl::StrCat("#", ifindex);
}

absl::Status Rtnl::Execute(NetlinkMessage request, absl::string_view what,
                           const ReplyHandler& on_reply) {
  bool interrupted = false;
  const std::string text(what);
  RETURN_IF_ERROR(Transact(
      std::move(request), [&] { return text; }, on_reply, &interrupted));
  if (interrupted) {
    return absl::UnavailableError(absl::StrCat(what, ": dump interrupted by a concurrent change"));
  }
  return absl::OkStatus();
}

absl::Status Rtnl::Transact(NetlinkMessage request, const std::function<std::string()>& what,
                            const ReplyHandler& on_reply, bool* dump_interrupted) {
  if (!request.ok()) return absl::InternalError(absl::StrCat(what(), ": message too long"));
  // Sequence number 0 turns libmnl's sequence check off: never use it.
  if (++seq_ == 0) ++seq_;
  const uint32_t seq = seq_;
  request.set_seq(seq);
  request.set_flags(request.flags() | NLM_F_REQUEST | NLM_F_ACK);
  const absl::Span<const uint8_t> bytes = request.bytes();
  ssize_t sent;
  do {
    sent = mnl_socket_sendto(socket_.get(), bytes.data(), bytes.size());
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return LastErrnoStatus(absl::StrCat(what(), ": netlink send"));
  if (static_cast<size_t>(sent) != bytes.size()) {
    return absl::InternalError(
        absl::StrCat(what(), ": netlink send of ", bytes.size(), " bytes sent ", sent));
  }

  Exchange exchange;
  exchange.on_reply = &on_reply;
  // Control messages (type < NLMSG_MIN_TYPE) are ours to parse: libmnl's
  // default NLMSG_ERROR handler drops the extended ack.
  mnl_cb_t control[NLMSG_MIN_TYPE] = {};
  control[NLMSG_ERROR] = OnError;
  control[NLMSG_DONE] = OnDone;
  control[NLMSG_OVERRUN] = OnOverrun;

  bool finished = false;
  while (!finished) {
    const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      // ENOBUFS: the receive queue overflowed and replies were lost; ENOSPC:
      // libmnl saw MSG_TRUNC.
      return LastErrnoStatus(absl::StrCat(what(), ": netlink receive"));
    }
    size_t remaining = static_cast<size_t>(received);
    uint8_t* next = buffer_.data();
    while (!finished && NetlinkMessageFits(reinterpret_cast<nlmsghdr*>(next), remaining)) {
      auto* message = reinterpret_cast<nlmsghdr*>(next);
      // A reply to an earlier request that ended early (its receive failed)
      // is skipped rather than taken for this one.
      if (message->nlmsg_seq == seq && message->nlmsg_pid == portid_) {
        if (message->nlmsg_flags & NLM_F_DUMP_INTR) {
          // libmnl fails the whole run on this flag; record it, read on, and
          // let the caller repeat the dump.
          *dump_interrupted = true;
          message->nlmsg_flags &= ~NLM_F_DUMP_INTR;
        }
        const int ret = mnl_cb_run2(message, message->nlmsg_len, seq, portid_, OnData, &exchange,
                                    control, NLMSG_MIN_TYPE);
        if (ret == MNL_CB_ERROR) {
          return LastErrnoStatus(absl::StrCat(what(), ": netlink reply"));
        }
        if (ret == MNL_CB_STOP) finished = true;
      }
      // Messages are 4-byte aligned within a datagram; the last one's
      // padding may be missing.
      const size_t step = std::min<size_t>(NLMSG_ALIGN(message->nlmsg_len), remaining);
      next += step;
      remaining -= step;
    }
    if (!finished && remaining != 0) {
      return absl::DataLossError(
          absl::StrCat(what(), ": truncated netlink message (", remaining, " bytes left)"));
    }
  }

  if (!exchange.protocol_status.ok()) return Annotate(exchange.protocol_status, what());
  if (!exchange.result) return absl::InternalError(absl::StrCat(what(), ": no ACK"));
  if (exchange.result->error != 0) {
    absl::Status status = ErrnoStatus(exchange.result->error, what());
    if (!exchange.result->message.empty()) {
      status = absl::Status(status.code(),
                            absl::StrCat(status.message(), ": ", exchange.result->message));
    }
    status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(exchange.result->error)));
    return status;
  }
  return exchange.handler_status.ok() ? absl::OkStatus()
                                      : Annotate(exchange.handler_status, what());
}

absl::Status Rtnl::Dump(const NetlinkMessage& request, absl::string_view what,
                        const std::function<void()>& reset, const ReplyHandler& on_reply) {
  const std::string text(what);
  for (int attempt = 1; attempt <= kDumpAttempts; ++attempt) {
    reset();
    bool interrupted = false;
    RETURN_IF_ERROR(Transact(
        request, [&] { return text; }, on_reply, &interrupted));
    if (!interrupted) return absl::OkStatus();
  }
  return absl::UnavailableError(
      absl::StrCat(what, ": dump interrupted by concurrent changes ", kDumpAttempts, " times"));
}

absl::StatusOr<int> Rtnl::LinkIndex(absl::string_view name) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildGetLinkByName(name));
  std::optional<LinkInfo> link;
  RETURN_IF_ERROR(Execute(std::move(request), absl::StrCat("RTM_GETLINK ", name),
                          [&](const nlmsghdr* message) -> absl::Status {
                            if (message->nlmsg_type != RTM_NEWLINK) return absl::OkStatus();
                            ASSIGN_OR_RETURN(link, ParseLinkMessage(message));
                            return absl::OkStatus();
                          }));
  if (!link) return absl::InternalError(absl::StrCat("RTM_GETLINK ", name, ": no link in reply"));
  return link->ifindex;
}

absl::StatusOr<LinkInfo> Rtnl::GetLink(int ifindex) {
  std::optional<LinkInfo> link;
  const std::string what = absl::StrCat("RTM_GETLINK #", ifindex);
  RETURN_IF_ERROR(
      Execute(BuildGetLinkByIndex(ifindex), what, [&](const nlmsghdr* message) -> absl::Status {
        if (message->nlmsg_type != RTM_NEWLINK) return absl::OkStatus();
        ASSIGN_OR_RETURN(link, ParseLinkMessage(message));
        return absl::OkStatus();
      }));
  if (!link) return absl::InternalError(absl::StrCat(what, ": no link in reply"));
  return *std::move(link);
}

absl::Status Rtnl::SetMtu(int ifindex, uint32_t mtu) {
  bool unused = false;
  return Transact(
      BuildSetMtu(ifindex, mtu),
      [&] { return absl::StrCat("RTM_SETLINK ", InterfaceName(ifindex), " mtu ", mtu); }, nullptr,
      &unused);
}

absl::Status Rtnl::SetLinkUp(int ifindex) {
  bool unused = false;
  return Transact(
      BuildSetLinkUp(ifindex, true),
      [&] { return absl::StrCat("RTM_SETLINK ", InterfaceName(ifindex), " up"); }, nullptr,
      &unused);
}

absl::Status Rtnl::SetLinkDown(int ifindex) {
  bool unused = false;
  return Transact(
      BuildSetLinkUp(ifindex, false),
      [&] { return absl::StrCat("RTM_SETLINK ", InterfaceName(ifindex), " down"); }, nullptr,
      &unused);
}

absl::Status Rtnl::SetIpv6AddrGenMode(int ifindex, uint8_t mode) {
  bool unused = false;
  return Transact(
      BuildSetIpv6AddrGenMode(ifindex, mode),
      [&] {
        return absl::StrCat("RTM_SETLINK ", InterfaceName(ifindex), " addrgenmode ",
                            static_cast<int>(mode));
      },
      nullptr, &unused);
}

absl::Status Rtnl::AddAddress(const AddressSpec& spec) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildAddress(RTM_NEWADDR, spec));
  bool unused = false;
  return Transact(
      std::move(request),
      [&] {
        return absl::StrCat("RTM_NEWADDR ", DescribeAddress(spec, InterfaceName(spec.ifindex)));
      },
      nullptr, &unused);
}

absl::Status Rtnl::DeleteAddress(const AddressSpec& spec) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildAddress(RTM_DELADDR, spec));
  bool unused = false;
  return Transact(
      std::move(request),
      [&] {
        return absl::StrCat("RTM_DELADDR ", DescribeAddress(spec, InterfaceName(spec.ifindex)));
      },
      nullptr, &unused);
}

absl::Status Rtnl::AddRoute(const RouteSpec& spec) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildRoute(RTM_NEWROUTE, spec));
  bool unused = false;
  return Transact(
      std::move(request),
      [&] {
        return absl::StrCat("RTM_NEWROUTE ",
                            DescribeRoute(spec, spec.oif > 0 ? InterfaceName(spec.oif) : ""));
      },
      nullptr, &unused);
}

absl::Status Rtnl::DeleteRoute(const RouteSpec& spec) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildRoute(RTM_DELROUTE, spec));
  bool unused = false;
  return Transact(
      std::move(request),
      [&] {
        return absl::StrCat("RTM_DELROUTE ",
                            DescribeRoute(spec, spec.oif > 0 ? InterfaceName(spec.oif) : ""));
      },
      nullptr, &unused);
}

absl::StatusOr<RouteLookup> Rtnl::GetRoute(const IpAddress& destination) {
  const std::string what = absl::StrCat("RTM_GETROUTE ", destination.ToString());
  std::optional<RouteLookup> lookup;
  RETURN_IF_ERROR(
      Execute(BuildGetRoute(destination), what, [&](const nlmsghdr* message) -> absl::Status {
        if (message->nlmsg_type != RTM_NEWROUTE) return absl::OkStatus();
        ASSIGN_OR_RETURN(const RouteInfo route, ParseRouteMessage(message));
        lookup = RouteLookup{route.oif, route.gateway, route.prefsrc, route.table, route.type};
        return absl::OkStatus();
      }));
  if (!lookup) return absl::InternalError(absl::StrCat(what, ": no route in reply"));
  return *lookup;
}

absl::StatusOr<std::vector<AddressInfo>> Rtnl::ListAddresses(int ifindex, int family) {
  std::vector<AddressInfo> addresses;
  RETURN_IF_ERROR(Dump(
      BuildDump(RTM_GETADDR, family), absl::StrCat("RTM_GETADDR dump ", FamilyName(family)),
      [&] { addresses.clear(); },
      [&](const nlmsghdr* message) -> absl::Status {
        if (message->nlmsg_type != RTM_NEWADDR || !IsIpFamilyMessage(message)) {
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(AddressInfo address, ParseAddressMessage(message));
        if (family != AF_UNSPEC && address.local.address.family() != family) {
          return absl::OkStatus();
        }
        if (ifindex == 0 || address.ifindex == ifindex) addresses.push_back(std::move(address));
        return absl::OkStatus();
      }));
  return addresses;
}

absl::StatusOr<std::vector<RouteInfo>> Rtnl::ListRoutes(int family, uint32_t table) {
  if (family != AF_INET && family != AF_INET6) {
    return absl::InvalidArgumentError(absl::StrCat("ListRoutes: family ", family));
  }
  std::vector<RouteInfo> routes;
  RETURN_IF_ERROR(Dump(
      BuildDump(RTM_GETROUTE, family), absl::StrCat("RTM_GETROUTE dump ", FamilyName(family)),
      [&] { routes.clear(); },
      [&](const nlmsghdr* message) -> absl::Status {
        if (message->nlmsg_type != RTM_NEWROUTE || !IsIpFamilyMessage(message)) {
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(RouteInfo route, ParseRouteMessage(message));
        if (route.destination.address.family() == family && route.table == table) {
          routes.push_back(std::move(route));
        }
        return absl::OkStatus();
      }));
  return routes;
}

}  // namespace sstp::netlink
