#include "netlink/ethtool.h"

#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace sstp::netlink {

absl::StatusOr<uint16_t> ResolveGenlFamily(Rtnl& socket, absl::string_view name) {
  ASSIGN_OR_RETURN(NetlinkMessage request, BuildGetFamily(name));
  const std::string what = absl::StrCat("CTRL_CMD_GETFAMILY ", name);
  std::optional<uint16_t> family_id;
  const absl::Status status =
      socket.Execute(std::move(request), what, [&](const nlmsghdr* message) -> absl::Status {
        if (message->nlmsg_type != GENL_ID_CTRL) return absl::OkStatus();
        ASSIGN_OR_RETURN(family_id, ParseFamilyId(message));
        return absl::OkStatus();
      });
  // genl_ctrl_getfamily(): no family registered under that name.
  if (KernelErrno(status) == ENOENT) {
    return absl::UnavailableError(absl::StrCat(name, " netlink not available: ", status.message()));
  }
  RETURN_IF_ERROR(status);
  if (!family_id) return absl::InternalError(absl::StrCat(what, ": no family in reply"));
  return *family_id;
}

absl::StatusOr<Ethtool> Ethtool::Open() {
  ASSIGN_OR_RETURN(Rtnl socket, Rtnl::OpenProtocol(NETLINK_GENERIC));
  ASSIGN_OR_RETURN(const uint16_t family_id, ResolveGenlFamily(socket, ETHTOOL_GENL_NAME));
  return Ethtool(std::move(socket), family_id);
}

absl::StatusOr<TlsOffloadFeatures> Ethtool::GetTlsOffload(int ifindex) {
  const std::string what = absl::StrCat("ETHTOOL_MSG_FEATURES_GET ", Rtnl::InterfaceName(ifindex));
  if (ifindex <= 0) return absl::InvalidArgumentError(absl::StrCat(what, ": bad interface index"));
  std::optional<TlsOffloadFeatures> features;
  RETURN_IF_ERROR(socket_.Execute(BuildFeaturesGet(family_id_, ifindex), what,
                                  [&](const nlmsghdr* message) -> absl::Status {
                                    if (message->nlmsg_type != family_id_) return absl::OkStatus();
                                    ASSIGN_OR_RETURN(features, ParseFeaturesReply(message));
                                    return absl::OkStatus();
                                  }));
  if (!features) return absl::InternalError(absl::StrCat(what, ": no features in reply"));
  if (features->ifindex != ifindex) {
    return absl::InternalError(absl::StrCat(what, ": reply is for device #", features->ifindex));
  }
  return *std::move(features);
}

absl::StatusOr<EgressInterface> FindEgressInterface(Rtnl& rtnl, const IpAddress& destination) {
  ASSIGN_OR_RETURN(const RouteLookup route, rtnl.GetRoute(destination));
  if (route.oif <= 0) {
    return absl::NotFoundError(
        absl::StrCat("route to ", destination.ToString(), " has no output device"));
  }
  ASSIGN_OR_RETURN(LinkInfo link, rtnl.GetLink(route.oif));
  return EgressInterface{route.oif, std::move(link.name)};
}

absl::StatusOr<TlsOffloadFeatures> TlsOffloadTowards(const IpAddress& destination) {
  const std::string what = absl::StrCat("NIC TLS offload towards ", destination.ToString());
  absl::StatusOr<Rtnl> rtnl = Rtnl::Open();
  if (!rtnl.ok()) return Annotate(rtnl.status(), what);
  absl::StatusOr<EgressInterface> egress = FindEgressInterface(*rtnl, destination);
  if (!egress.ok()) return Annotate(egress.status(), what);
  absl::StatusOr<Ethtool> ethtool = Ethtool::Open();
  if (!ethtool.ok()) return Annotate(ethtool.status(), what);
  absl::StatusOr<TlsOffloadFeatures> features = ethtool->GetTlsOffload(egress->ifindex);
  if (!features.ok()) return Annotate(features.status(), what);
  if (features->interface.empty()) features->interface = egress->name;
  return features;
}

}  // namespace sstp::netlink
