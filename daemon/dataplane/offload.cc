#include "daemon/dataplane/offload.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sstp::dataplane {
namespace {

constexpr uint8_t kProtocolTcp = 6;
constexpr size_t kIpv4HeaderSize = 20;  // Without options.
constexpr size_t kIpv6HeaderSize = 40;
constexpr uint8_t kIpv6HopByHop = 0;            // RFC 8200 4.3
constexpr uint8_t kIpv6DestinationOptions = 60;  // RFC 8200 4.6
constexpr size_t kTcpHeaderSize = 20;   // Without options.
constexpr size_t kTcpChecksumOffset = 16;
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpCwr = 0x80;
constexpr uint8_t kIpv4DontFragment = 0x40;
constexpr size_t kMaxIpLength = 65535;

const std::array<uint8_t, kVnetHeaderSize> kPlainVnetHeader{};  // GSO_NONE, no flags.

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Load32(const uint8_t* p) { return uint32_t{Load16(p)} << 16 | Load16(p + 2); }
void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Store32(uint8_t* p, uint32_t v) {
  Store16(p, static_cast<uint16_t>(v >> 16));
  Store16(p + 2, static_cast<uint16_t>(v));
}
uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
void StoreLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The L4 offset of an IPv4 packet with TCP inside (any IHL), or of an IPv6
// packet whose next header is TCP (no extension headers); 0 otherwise.
size_t TcpOffset(absl::Span<const uint8_t> packet) {
  if (packet.empty()) return 0;
  const uint8_t version = packet[0] >> 4;
  if (version == 4 && packet.size() >= kIpv4HeaderSize && packet[9] == kProtocolTcp) {
    const size_t ihl = size_t{packet[0] & 0x0fu} * 4;
    const bool fragment = (Load16(&packet[6]) & 0x3fff) != 0;  // MF or an offset.
    if (ihl < kIpv4HeaderSize || fragment || packet.size() < ihl + kTcpHeaderSize) return 0;
    return ihl;
  }
  if (version == 6 && packet.size() >= kIpv6HeaderSize + kTcpHeaderSize &&
      packet[6] == kProtocolTcp) {
    return kIpv6HeaderSize;
  }
  return 0;
}

// True for packets that may belong to a TCP flow we cannot identify: IPv4
// fragments of TCP, IPv6 with extension headers. They must not overtake a
// joined packet of their flow, so everything open is written first.
bool OpaqueToFlows(absl::Span<const uint8_t> packet) {
  if (packet.empty()) return false;
  const uint8_t version = packet[0] >> 4;
  if (version == 4) return packet.size() >= kIpv4HeaderSize && packet[9] == kProtocolTcp;
  if (version == 6) {
    if (packet.size() < kIpv6HeaderSize) return false;
    const uint8_t next = packet[6];
    return next != 17 && next != 58 && next != 59;  // UDP, ICMPv6, no next header.
  }
  return false;
}

}  // namespace

VnetHeader ParseVnetHeader(absl::Span<const uint8_t> bytes) {
  VnetHeader h;
  h.flags = bytes[0];
  h.gso_type = bytes[1];
  h.hdr_len = LoadLe16(&bytes[2]);
  h.gso_size = LoadLe16(&bytes[4]);
  h.csum_start = LoadLe16(&bytes[6]);
  h.csum_offset = LoadLe16(&bytes[8]);
  return h;
}

void WriteVnetHeader(const VnetHeader& header, absl::Span<uint8_t> out) {
  out[0] = header.flags;
  out[1] = header.gso_type;
  StoreLe16(&out[2], header.hdr_len);
  StoreLe16(&out[4], header.gso_size);
  StoreLe16(&out[6], header.csum_start);
  StoreLe16(&out[8], header.csum_offset);
}

uint16_t OnesComplementSum(absl::Span<const uint8_t> data, uint16_t initial) {
  // RFC 1071 2(B): the sum is byte-order independent, so native words are
  // added (32 bits at a time into 64) and the result swapped once at the end.
  // Blocks of 16 words with a fixed trip count: the compiler vectorizes
  // them (about twice the speed of the word loop with SSE2 alone).
  uint64_t sum = 0;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 64) {
    uint64_t block = 0;
    for (int i = 0; i < 16; ++i) {
      uint32_t v;
      std::memcpy(&v, p + 4 * i, 4);
      block += v;
    }
    sum += block;
    p += 64;
    n -= 64;
  }
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    sum += (v & 0xffffffffu) + (v >> 32);
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    sum += v;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The odd byte is the high half of a big-endian word padded with zero.
    uint8_t last[2] = {*p, 0};
    uint16_t v;
    std::memcpy(&v, last, 2);
    sum += v;
  }
  uint16_t native = Fold(sum);
  if constexpr (std::endian::native == std::endian::little) {
    native = static_cast<uint16_t>(native >> 8 | native << 8);
  }
  return OnesComplementAdd(native, initial);
}

uint16_t OnesComplementAdd(uint16_t a, uint16_t b) { return Fold(uint32_t{a} + b); }

uint16_t PseudoHeaderSum(absl::Span<const uint8_t> packet, uint8_t protocol, size_t l4_length) {
  const bool ipv6 = packet[0] >> 4 == 6;
  const absl::Span<const uint8_t> addresses = ipv6 ? packet.subspan(8, 32) : packet.subspan(12, 8);
  const uint64_t extra = uint64_t{protocol} + (l4_length >> 16) + (l4_length & 0xffff);
  return OnesComplementSum(addresses, Fold(extra));
}

absl::Status CompleteChecksum(absl::Span<uint8_t> packet, const VnetHeader& vnet) {
  const size_t start = vnet.csum_start;
  const size_t field = start + vnet.csum_offset;
  if (start >= packet.size() || field + 2 > packet.size() || vnet.csum_offset % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TUN packet of ", packet.size(), " bytes: checksum at ", start, "+", vnet.csum_offset,
        " lies outside it"));
  }
  // The field holds the pseudo-header sum the kernel put there; it is summed
  // along (skb_checksum_help). A result of 0 is sent as 0xffff (CSUM_MANGLED_0).
  const uint16_t sum = static_cast<uint16_t>(~OnesComplementSum(packet.subspan(start)));
  Store16(&packet[field], sum == 0 ? 0xffff : sum);
  return absl::OkStatus();
}

absl::StatusOr<TcpSuperPacket> InspectTcpSuperPacket(absl::Span<const uint8_t> packet,
                                                     const VnetHeader& vnet) {
  const uint8_t type = vnet.gso_type & ~kGsoEcn;
  const auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("TSO packet of %d bytes (gso_type 0x%02x): %s", packet.size(),
                        vnet.gso_type, why));
  };
  if (type != kGsoTcpV4 && type != kGsoTcpV6) return fail("not TCP segmentation");
  if (!(vnet.flags & kVnetNeedsCsum) || vnet.csum_offset != kTcpChecksumOffset) {
    return fail("no partial TCP checksum (NEEDS_CSUM at offset 16)");
  }
  TcpSuperPacket super;
  super.ipv6 = type == kGsoTcpV6;
  const uint8_t version = packet.empty() ? 0 : packet[0] >> 4;
  if (version != (super.ipv6 ? 6 : 4)) return fail(absl::StrCat("IP version ", version));
  if (super.ipv6) {
    if (packet.size() < kIpv6HeaderSize || vnet.csum_start < kIpv6HeaderSize ||
        packet.size() < vnet.csum_start) {
      return fail("IPv6 header cut short");
    }
    // Up to the TCP header only options that leave the pseudo-header alone
    // (hop-by-hop, destination options): a routing header would change the
    // destination the checksum covers, a fragment header cannot be cut.
    uint8_t next = packet[6];
    size_t offset = kIpv6HeaderSize;
    while (offset < vnet.csum_start) {
      if (next != kIpv6HopByHop && next != kIpv6DestinationOptions) {
        return fail(absl::StrCat("IPv6 extension header ", next, " before TCP"));
      }
      if (offset + 2 > vnet.csum_start) return fail("IPv6 extension header cut short");
      next = packet[offset];
      offset += (size_t{packet[offset + 1]} + 1) * 8;
    }
    if (offset != vnet.csum_start) return fail("IPv6 extension headers do not end at the TCP header");
    if (next != kProtocolTcp) return fail(absl::StrCat("IPv6 next header ", next));
  } else {
    const size_t ihl = packet.size() >= kIpv4HeaderSize ? size_t{packet[0] & 0x0fu} * 4 : 0;
    if (ihl < kIpv4HeaderSize || vnet.csum_start != ihl) return fail("IPv4 header length mismatch");
    if (packet[9] != kProtocolTcp) return fail(absl::StrCat("IPv4 protocol ", packet[9]));
  }
  super.l4_offset = vnet.csum_start;
  if (packet.size() < super.l4_offset + kTcpHeaderSize) return fail("TCP header cut short");
  const size_t tcp_header = (size_t{packet[super.l4_offset + 12]} >> 4) * 4;
  super.header_size = super.l4_offset + tcp_header;
  if (tcp_header < kTcpHeaderSize || super.header_size >= packet.size()) {
    return fail("no payload after the TCP header");
  }
  if (vnet.gso_size == 0) return fail("gso_size 0");
  super.payload_size = packet.size() - super.header_size;
  super.gso_size = vnet.gso_size;
  super.segments = (super.payload_size + super.gso_size - 1) / super.gso_size;
  return super;
}

absl::Span<const uint8_t> WriteTcpSegment(const TcpSuperPacket& super,
                                          absl::Span<const uint8_t> packet, size_t index,
                                          absl::Span<uint8_t> headers) {
  const size_t offset = index * super.gso_size;
  const size_t length = std::min(super.gso_size, super.payload_size - offset);
  const absl::Span<const uint8_t> payload = packet.subspan(super.header_size + offset, length);
  uint8_t* h = headers.data();
  std::memcpy(h, packet.data(), super.header_size);
  if (super.ipv6) {
    Store16(h + 4, static_cast<uint16_t>(super.header_size - kIpv6HeaderSize + length));
  } else {
    Store16(h + 2, static_cast<uint16_t>(super.header_size + length));
    Store16(h + 4, static_cast<uint16_t>(Load16(h + 4) + index));
    Store16(h + 10, 0);
    Store16(h + 10, static_cast<uint16_t>(~OnesComplementSum(headers.first(super.l4_offset))));
  }
  uint8_t* tcp = h + super.l4_offset;
  Store32(tcp + 4, Load32(tcp + 4) + static_cast<uint32_t>(offset));
  if (index + 1 < super.segments) tcp[13] &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
  if (index > 0) tcp[13] &= static_cast<uint8_t>(~kTcpCwr);
  Store16(tcp + kTcpChecksumOffset, 0);
  const size_t tcp_length = super.header_size - super.l4_offset + length;
  uint16_t sum = PseudoHeaderSum(headers, kProtocolTcp, tcp_length);
  sum = OnesComplementSum(headers.subspan(super.l4_offset, super.header_size - super.l4_offset), sum);
  sum = OnesComplementSum(payload, sum);
  Store16(tcp + kTcpChecksumOffset, static_cast<uint16_t>(~sum));
  return payload;
}

// ------------------------------------------------------------------- GRO

TunWrites::TunWrites() {
  iov.reserve(4096);
  writes.reserve(2048);
  headers.reserve(1024);
}

void TunWrites::Clear() {
  iov.clear();
  writes.clear();
  headers.clear();
}

void TcpCoalescer::EmitRaw(absl::Span<uint8_t> packet, TunWrites& out) {
  out.writes.emplace_back(static_cast<uint32_t>(out.iov.size()), 2);
  out.iov.push_back({const_cast<uint8_t*>(kPlainVnetHeader.data()), kVnetHeaderSize});
  out.iov.push_back({packet.data(), packet.size()});
}

TcpCoalescer::Flow* TcpCoalescer::Find(absl::Span<const uint8_t> packet, size_t l4_offset) {
  const bool ipv6 = packet[0] >> 4 == 6;
  const absl::Span<const uint8_t> addresses = ipv6 ? packet.subspan(8, 32) : packet.subspan(12, 8);
  for (Flow& flow : flows_) {
    // Matched by addresses and ports whatever each packet's IP header length:
    // a segment with IPv4 options is not joinable, but it still closes (and
    // so follows) the open flow it belongs to.
    if (!flow.open || flow.ipv6 != ipv6) continue;
    const uint8_t* first = flow.packets[0].data();
    if (std::memcmp(first + (ipv6 ? 8 : 12), addresses.data(), addresses.size()) == 0 &&
        std::memcmp(first + flow.l4_offset, packet.data() + l4_offset, 4) == 0) {  // Ports.
      return &flow;
    }
  }
  return nullptr;
}

namespace {

// A segment the kernel's GRO would consider: plain IPv4 or IPv6 + TCP, ACK
// (PSH allowed), payload, and valid checksums. Returns the header size, or 0.
size_t JoinableHeaderSize(absl::Span<const uint8_t> packet, size_t l4_offset) {
  if (packet[0] >> 4 == 4) {
    if (l4_offset != kIpv4HeaderSize || Load16(&packet[2]) != packet.size()) return 0;
    if (OnesComplementSum(packet.first(kIpv4HeaderSize)) != 0xffff) return 0;
  } else if (Load16(&packet[4]) != packet.size() - kIpv6HeaderSize) {
    return 0;
  }
  const size_t header_size = l4_offset + (size_t{packet[l4_offset + 12]} >> 4) * 4;
  if (header_size < l4_offset + kTcpHeaderSize || header_size >= packet.size()) return 0;
  if ((packet[l4_offset + 13] & ~kTcpPsh) != kTcpAck) return 0;
  const size_t l4_length = packet.size() - l4_offset;
  const uint16_t sum = OnesComplementSum(packet.subspan(l4_offset),
                                         PseudoHeaderSum(packet, kProtocolTcp, l4_length));
  return sum == 0xffff ? header_size : 0;
}

}  // namespace

bool TcpCoalescer::Appendable(const Flow& flow, absl::Span<const uint8_t> packet) const {
  const uint8_t* first = flow.packets[0].data();
  const uint8_t* p = packet.data();
  const size_t l4 = flow.l4_offset;
  if (flow.sealed || flow.count == kMaxSegments) return false;
  const size_t header_size = l4 + (size_t{p[l4 + 12]} >> 4) * 4;
  if (header_size != flow.header_size) return false;
  const size_t payload = packet.size() - header_size;
  if (payload > flow.gso_size || flow.total + payload > kMaxIpLength) return false;
  if (Load32(p + l4 + 4) != flow.next_seq) return false;
  if (std::memcmp(p + l4 + 8, first + l4 + 8, 4) != 0) return false;  // ACK number.
  // The window too, as Linux's tcp_gro_receive: a window update is news the
  // receiver of the joined packet must not lose.
  if (std::memcmp(p + l4 + 14, first + l4 + 14, 2) != 0) return false;
  if (std::memcmp(p + l4 + kTcpHeaderSize, first + l4 + kTcpHeaderSize,
                  header_size - l4 - kTcpHeaderSize) != 0) {
    return false;  // Options, timestamps included, must match byte for byte.
  }
  if (flow.ipv6) {
    // Version, traffic class, flow label; hop limit.
    return std::memcmp(p, first, 4) == 0 && p[7] == first[7];
  }
  if (p[1] != first[1] || p[8] != first[8] || (p[6] & 0xe0) != (first[6] & 0xe0)) return false;
  // IDs must run on unless DF makes them meaningless (inet_gro_receive).
  return (p[6] & kIpv4DontFragment) != 0 || Load16(p + 4) == flow.next_id;
}

void TcpCoalescer::Open(Flow& flow, absl::Span<uint8_t> packet, size_t l4_offset,
                        size_t header_size) {
  const uint8_t* p = packet.data();
  flow.open = true;
  flow.order = next_order_++;
  flow.ipv6 = p[0] >> 4 == 6;
  flow.l4_offset = l4_offset;
  flow.header_size = header_size;
  flow.gso_size = packet.size() - header_size;
  flow.total = packet.size();
  flow.next_seq = Load32(p + l4_offset + 4) + static_cast<uint32_t>(flow.gso_size);
  flow.next_id = static_cast<uint16_t>(Load16(p + 4) + 1);
  flow.psh = (p[l4_offset + 13] & kTcpPsh) != 0;
  flow.sealed = flow.psh;
  flow.count = 1;
  flow.packets[0] = packet;
}

void TcpCoalescer::Close(Flow& flow, TunWrites& out) {
  flow.open = false;
  if (flow.count == 1 || out.headers.size() == out.headers.capacity()) {
    for (size_t i = 0; i < flow.count; ++i) EmitRaw(flow.packets[i], out);
    return;
  }
  uint8_t* first = flow.packets[0].data();
  const size_t l4 = flow.l4_offset;
  if (flow.ipv6) {
    Store16(first + 4, static_cast<uint16_t>(flow.total - kIpv6HeaderSize));
  } else {
    Store16(first + 2, static_cast<uint16_t>(flow.total));
    Store16(first + 10, 0);
    Store16(first + 10, static_cast<uint16_t>(~OnesComplementSum({first, kIpv4HeaderSize})));
  }
  uint8_t* tcp = first + l4;
  if (flow.psh) tcp[13] |= kTcpPsh;
  // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not complemented;
  // whoever forwards the packet completes it (as for a local TSO send).
  Store16(tcp + kTcpChecksumOffset,
          PseudoHeaderSum({first, flow.header_size}, kProtocolTcp, flow.total - l4));

  VnetHeader vnet;
  vnet.flags = kVnetNeedsCsum;
  vnet.gso_type = flow.ipv6 ? kGsoTcpV6 : kGsoTcpV4;
  vnet.hdr_len = static_cast<uint16_t>(flow.header_size);
  vnet.gso_size = static_cast<uint16_t>(flow.gso_size);
  vnet.csum_start = static_cast<uint16_t>(l4);
  vnet.csum_offset = kTcpChecksumOffset;
  std::array<uint8_t, kVnetHeaderSize>& header = out.headers.emplace_back();
  WriteVnetHeader(vnet, absl::MakeSpan(header));

  out.writes.emplace_back(static_cast<uint32_t>(out.iov.size()),
                          static_cast<uint32_t>(flow.count + 1));
  out.iov.push_back({header.data(), kVnetHeaderSize});
  out.iov.push_back({first, flow.packets[0].size()});
  for (size_t i = 1; i < flow.count; ++i) {
    const absl::Span<uint8_t> payload = flow.packets[i].subspan(flow.header_size);
    out.iov.push_back({payload.data(), payload.size()});
  }
  joined_ += flow.count - 1;
  ++super_packets_;
}

void TcpCoalescer::Add(absl::Span<uint8_t> packet, TunWrites& out) {
  const size_t l4 = TcpOffset(packet);
  if (l4 == 0) {
    if (OpaqueToFlows(packet)) Finish(out);
    EmitRaw(packet, out);
    return;
  }
  Flow* flow = Find(packet, l4);
  const size_t header_size = JoinableHeaderSize(packet, l4);
  if (header_size == 0) {
    if (flow != nullptr) Close(*flow, out);
    EmitRaw(packet, out);
    return;
  }
  if (flow != nullptr) {
    if (Appendable(*flow, packet)) {
      const size_t payload = packet.size() - header_size;
      const bool psh = (packet[l4 + 13] & kTcpPsh) != 0;
      flow->packets[flow->count++] = packet;
      flow->total += payload;
      flow->next_seq += static_cast<uint32_t>(payload);
      ++flow->next_id;
      flow->psh = psh;
      flow->sealed = psh || payload < flow->gso_size;
      return;
    }
    Close(*flow, out);
  } else {
    // A free entry, or else the oldest: written now, it makes room.
    flow = &flows_[0];
    for (Flow& f : flows_) {
      if (!f.open) {
        flow = &f;
        break;
      }
      if (f.order < flow->order) flow = &f;
    }
    if (flow->open) Close(*flow, out);
  }
  Open(*flow, packet, l4, header_size);
}

void TcpCoalescer::Finish(TunWrites& out) {
  while (true) {
    Flow* oldest = nullptr;
    for (Flow& f : flows_) {
      if (f.open && (oldest == nullptr || f.order < oldest->order)) oldest = &f;
    }
    if (oldest == nullptr) return;
    Close(*oldest, out);
  }
}

}  // namespace sstp::dataplane
