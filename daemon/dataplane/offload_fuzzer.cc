// Fuzzes the TUN offloads of daemon/dataplane/offload.h.
//
// Input: a 10-byte virtio_net_hdr, one mode byte, then the body. The body is
// used twice:
//   1. as the packet behind the virtio_net_hdr: InspectTcpSuperPacket, and if
//      it accepts, WriteTcpSegment for every segment; CompleteChecksum on a
//      copy;
//   2. cut into packets (each a 2-byte big-endian length, then that many
//      bytes, the last one short if the input ends) for a TcpCoalescer.
// Mode bits help the fuzzer past the gates random bytes rarely pass:
//   0x01  part 1: make the virtio_net_hdr consistent with the packet
//         (NEEDS_CSUM, TCPV4/TCPV6 by IP version, csum_start, offset 16);
//   0x02  part 2: packets after the first take its IP and TCP headers, with
//         sequence numbers and IPv4 IDs running on (each packet's own first
//         byte picks a perturbation: a gap, PSH, its own flags, another ACK,
//         IPv4 options);
//   0x04  part 2: fix every IP length field and IPv4 / TCP checksum.
//
// Invariants checked (__builtin_trap() on violation):
//   - an accepted super-packet measures consistently; every segment's payload
//     is the next piece of the packet's payload, at most gso_size long and
//     not empty; the pieces make up the whole payload; each segment has its
//     length, ID, sequence number and flags as tcp_gso_segment sets them,
//     valid IPv4 header and TCP checksums (by a naive RFC 1071 sum), and the
//     original header bytes everywhere else;
//   - CompleteChecksum succeeds exactly when the field lies inside the
//     packet, changes only the field, and makes the sum from csum_start
//     check out;
//   - every coalescer write starts with a 10-byte header iovec; every other
//     iovec lies inside an input packet; every input packet goes out exactly
//     once, whole in a plain write (zero header, unmodified) or in a GSO
//     write (first whole with only its headers rewritten, the rest as their
//     payload, unmodified); a GSO write joins checksum-valid, contiguous
//     segments of one flow within the limits, splits back into their
//     payloads, and carries a valid IPv4 header checksum and the
//     pseudo-header sum in the TCP checksum field; the counters agree;
//   - packets of one TCP flow go out in the order they came in.
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "daemon/dataplane/offload.h"

namespace sstp::dataplane {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kModeFixVnet = 0x01;
constexpr uint8_t kModeDerive = 0x02;
constexpr uint8_t kModeFixChecksums = 0x04;
constexpr uint8_t kTcp = 6;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) { return uint32_t{Get16(p)} << 16 | Get16(p + 2); }
void Put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  Put16(p, v >> 16);
  Put16(p + 2, v & 0xffff);
}

// RFC 1071, byte by byte, independent of the module's word-at-a-time sum.
uint16_t NaiveSum(absl::Span<const uint8_t> data, uint32_t sum = 0) {
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += uint32_t{data[i]} << 8 | (i + 1 < data.size() ? data[i + 1] : 0u);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Pseudo-header sum from the addresses of an IPv4 or IPv6 header at `ip`.
uint16_t NaivePseudoSum(const uint8_t* ip, size_t l4_length) {
  const bool ipv6 = ip[0] >> 4 == 6;
  uint32_t sum = NaiveSum({ip + (ipv6 ? 8 : 12), ipv6 ? 32u : 8u});
  sum += kTcp;
  sum += static_cast<uint32_t>(l4_length >> 16);
  sum += static_cast<uint32_t>(l4_length & 0xffff);
  return NaiveSum({}, sum);
}

// Plain IPv4 (any IHL, not a fragment) or IPv6 (no extension header) with a
// whole TCP header: its L4 offset, else 0. As the coalescer sees flows.
size_t TcpOffset(absl::Span<const uint8_t> p) {
  if (p.size() >= 20 && p[0] >> 4 == 4 && p[9] == kTcp) {
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (ihl < 20 || (Get16(&p[6]) & 0x3fff) != 0 || p.size() < ihl + 20) return 0;
    return ihl;
  }
  if (p.size() >= 60 && p[0] >> 4 == 6 && p[6] == kTcp) return 40;
  return 0;
}

size_t TcpHeaderEnd(absl::Span<const uint8_t> p, size_t l4) {
  return l4 + (size_t{p[l4 + 12]} >> 4) * 4;
}

// The TCP 4-tuple (and IP version) of a packet, for per-flow order.
std::string FlowKey(absl::Span<const uint8_t> p, size_t l4) {
  const bool ipv6 = p[0] >> 4 == 6;
  std::string key(1, ipv6 ? '6' : '4');
  key.append(reinterpret_cast<const char*>(p.data()) + (ipv6 ? 8 : 12), ipv6 ? 32 : 8);
  key.append(reinterpret_cast<const char*>(p.data()) + l4, 4);
  return key;
}

// ------------------------------------------------------------ TSO side

void FuzzSuperPacket(absl::Span<const uint8_t> packet, VnetHeader vnet, uint8_t mode) {
  if ((mode & kModeFixVnet) && !packet.empty()) {
    const bool ipv6 = packet[0] >> 4 == 6;
    vnet.flags |= kVnetNeedsCsum;
    vnet.gso_type = static_cast<uint8_t>((vnet.gso_type & kGsoEcn) | (ipv6 ? kGsoTcpV6 : kGsoTcpV4));
    vnet.csum_start = static_cast<uint16_t>(ipv6 ? 40 : (packet[0] & 0x0f) * 4);
    vnet.csum_offset = 16;
  }

  // CompleteChecksum on a copy.
  {
    Bytes copy(packet.begin(), packet.end());
    const size_t start = vnet.csum_start;
    const size_t field = start + vnet.csum_offset;
    const bool inside = start < copy.size() && field + 2 <= copy.size();
    const absl::Status status = CompleteChecksum(absl::MakeSpan(copy), vnet);
    if (status.ok()) {
      Check(inside);
      for (size_t i = 0; i < copy.size(); ++i) {
        if (i != field && i != field + 1) Check(copy[i] == packet[i]);
      }
      // The stored complement of the original range's sum (0 sent as 0xffff):
      // added to that sum it gives 0xffff.
      const uint16_t original = NaiveSum(packet.subspan(start));
      Check(NaiveSum({}, uint32_t{Get16(&copy[field])} + original) == 0xffff);
    } else {
      Check(status.code() == absl::StatusCode::kInvalidArgument);
      Check(!inside || vnet.csum_offset % 2 != 0);
    }
  }

  const absl::StatusOr<TcpSuperPacket> super = InspectTcpSuperPacket(packet, vnet);
  if (!super.ok()) {
    Check(super.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  const size_t l4 = super->l4_offset;
  const size_t header_size = super->header_size;
  Check(super->ipv6 == (packet[0] >> 4 == 6));
  Check(l4 == vnet.csum_start && l4 >= (super->ipv6 ? 40u : 20u));
  Check(header_size >= l4 + 20 && header_size < packet.size());
  Check(header_size == TcpHeaderEnd(packet, l4));
  Check(super->payload_size == packet.size() - header_size);
  Check(super->gso_size == vnet.gso_size && super->gso_size > 0);
  Check(super->segments >= 1);
  Check((super->segments - 1) * super->gso_size < super->payload_size);
  Check(super->segments * super->gso_size >= super->payload_size);

  const uint8_t* original = packet.data();
  const uint8_t flags = original[l4 + 13];
  Bytes joined;
  Bytes headers(header_size);
  for (size_t i = 0; i < super->segments; ++i) {
    std::fill(headers.begin(), headers.end(), 0xa5);
    const absl::Span<const uint8_t> payload =
        WriteTcpSegment(*super, packet, i, absl::MakeSpan(headers));
    const size_t length = payload.size();
    Check(length >= 1 && length <= super->gso_size);
    Check(payload.data() == original + header_size + i * super->gso_size);
    joined.insert(joined.end(), payload.begin(), payload.end());

    const uint8_t* h = headers.data();
    const bool first = i == 0;
    const bool last = i + 1 == super->segments;
    // Every byte but the rewritten fields is the original's.
    for (size_t b = 0; b < header_size; ++b) {
      const bool rewritten =
          (super->ipv6 ? (b == 4 || b == 5) : (b >= 2 && b <= 5) || b == 10 || b == 11) ||
          (b >= l4 + 4 && b < l4 + 8) || b == l4 + 13 || b == l4 + 16 || b == l4 + 17;
      if (!rewritten) Check(h[b] == original[b]);
    }
    if (super->ipv6) {
      Check(Get16(h + 4) == ((header_size - 40 + length) & 0xffff));
    } else {
      Check(Get16(h + 2) == ((header_size + length) & 0xffff));
      Check(Get16(h + 4) == ((Get16(original + 4) + i) & 0xffff));
      Check(NaiveSum({h, l4}) == 0xffff);
    }
    Check(Get32(h + l4 + 4) == static_cast<uint32_t>(Get32(original + l4 + 4) + i * super->gso_size));
    uint8_t expected_flags = flags;
    if (!last) expected_flags &= static_cast<uint8_t>(~0x09);  // FIN, PSH.
    if (!first) expected_flags &= static_cast<uint8_t>(~0x80);  // CWR.
    Check(h[l4 + 13] == expected_flags);
    const size_t l4_length = header_size - l4 + length;
    uint16_t sum = NaivePseudoSum(h, l4_length);
    sum = NaiveSum({h + l4, header_size - l4}, sum);  // A multiple of 4 bytes.
    sum = NaiveSum(payload, sum);
    Check(sum == 0xffff);
  }
  Check(joined.size() == super->payload_size);
  Check(std::equal(joined.begin(), joined.end(), original + header_size));
}

// ------------------------------------------------------------ GRO side

std::vector<Bytes> CutPackets(absl::Span<const uint8_t> body) {
  std::vector<Bytes> packets;
  size_t at = 0;
  while (at + 2 <= body.size()) {
    const size_t length = std::min<size_t>(Get16(&body[at]), body.size() - at - 2);
    at += 2;
    Bytes packet;
    packet.reserve(std::max<size_t>(length, 1));  // A distinct address even when empty.
    packet.assign(body.begin() + at, body.begin() + at + length);
    packets.push_back(std::move(packet));
    at += length;
  }
  return packets;
}

// Mode kModeDerive: the packets after the first continue its flow.
void Derive(std::vector<Bytes>& packets) {
  if (packets.empty()) return;
  const Bytes& model = packets[0];
  const size_t l4 = TcpOffset(model);
  if (l4 == 0) return;
  const size_t header_size = TcpHeaderEnd(model, l4);
  if (header_size < l4 + 20 || header_size > model.size()) return;
  uint32_t seq = Get32(&model[l4 + 4]) + static_cast<uint32_t>(model.size() - header_size);
  uint16_t id = static_cast<uint16_t>(Get16(&model[4]) + 1);
  for (size_t k = 1; k < packets.size(); ++k) {
    Bytes& p = packets[k];
    if (p.size() < header_size) continue;
    const uint8_t tweak = p[0];
    const uint8_t own_flags = p[l4 + 13];
    std::memcpy(p.data(), model.data(), header_size);
    if (tweak & 0x01) seq += tweak;  // A gap.
    Put32(&p[l4 + 4], seq);
    if (model[0] >> 4 == 4) Put16(&p[4], id);
    if (tweak & 0x02) p[l4 + 13] |= 0x08;  // PSH.
    if (tweak & 0x04) p[l4 + 13] = own_flags;
    if (tweak & 0x08) Put32(&p[l4 + 8], Get32(&p[l4 + 8]) + 1);  // Another ACK.
    seq += static_cast<uint32_t>(p.size() - header_size);
    if ((tweak & 0x10) && l4 == 20 && model[0] >> 4 == 4) {
      // The same segment with 4 bytes of IPv4 options (NOPs) before TCP.
      p[0] = 0x46;
      const uint8_t nops[4] = {1, 1, 1, 1};
      p.insert(p.begin() + 20, nops, nops + 4);
    }
    ++id;
  }
}

// Mode kModeFixChecksums.
void FixLengthsAndChecksums(Bytes& p) {
  if (p.size() >= 20 && p[0] >> 4 == 4) {
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (ihl < 20 || ihl > p.size()) return;
    Put16(&p[2], static_cast<uint32_t>(p.size()));
    Put16(&p[10], 0);
    Put16(&p[10], static_cast<uint16_t>(~NaiveSum({p.data(), ihl})));
  } else if (p.size() >= 40 && p[0] >> 4 == 6) {
    Put16(&p[4], static_cast<uint32_t>(p.size() - 40));
  }
  const size_t l4 = TcpOffset(p);
  if (l4 == 0) return;
  Put16(&p[l4 + 16], 0);
  const uint16_t sum = NaiveSum({p.data() + l4, p.size() - l4}, NaivePseudoSum(p.data(), p.size() - l4));
  Put16(&p[l4 + 16], static_cast<uint16_t>(~sum));
}

bool TcpChecksumValid(const Bytes& p, size_t l4) {
  return NaiveSum({p.data() + l4, p.size() - l4}, NaivePseudoSum(p.data(), p.size() - l4)) ==
         0xffff;
}

void FuzzCoalescer(absl::Span<const uint8_t> body, uint8_t mode) {
  std::vector<Bytes> packets = CutPackets(body);
  if (mode & kModeDerive) Derive(packets);
  if (mode & kModeFixChecksums) {
    for (Bytes& p : packets) FixLengthsAndChecksums(p);
  }
  const std::vector<Bytes> originals = packets;  // The coalescer rewrites headers.

  TcpCoalescer coalescer;
  TunWrites out;
  for (Bytes& p : packets) coalescer.Add(absl::MakeSpan(p), out);
  coalescer.Finish(out);

  // Which input packet an iovec lies in; -1 if none.
  std::map<const uint8_t*, size_t> by_address;
  for (size_t k = 0; k < packets.size(); ++k) by_address[packets[k].data()] = k;
  const auto locate = [&](const iovec& v) -> ptrdiff_t {
    const auto* base = static_cast<const uint8_t*>(v.iov_base);
    auto it = by_address.upper_bound(base);
    if (it == by_address.begin()) return -1;
    --it;
    const Bytes& p = packets[it->second];
    if (base < p.data() || base + v.iov_len > p.data() + p.size()) return -1;
    return static_cast<ptrdiff_t>(it->second);
  };

  std::vector<int> delivered(packets.size(), 0);
  std::vector<size_t> order;  // Input indices in the order they went out.
  uint64_t joined = 0;
  uint64_t super_packets = 0;
  for (const auto& [first, count] : out.writes) {
    Check(count >= 2 && size_t{first} + count <= out.iov.size());
    const iovec& head = out.iov[first];
    Check(head.iov_len == kVnetHeaderSize);
    const VnetHeader vnet =
        ParseVnetHeader({static_cast<const uint8_t*>(head.iov_base), kVnetHeaderSize});
    const iovec& whole = out.iov[first + 1];
    const ptrdiff_t k0 = locate(whole);
    Check(k0 >= 0);
    const Bytes& p0 = packets[k0];
    Check(whole.iov_base == p0.data() && whole.iov_len == p0.size());
    Check(delivered[k0]++ == 0);
    order.push_back(static_cast<size_t>(k0));

    if (vnet == VnetHeader{}) {
      Check(count == 2);
      Check(p0 == originals[k0]);
      continue;
    }
    // A GSO write.
    ++super_packets;
    joined += count - 2;
    Check(count - 1 <= TcpCoalescer::kMaxSegments);
    const Bytes& o0 = originals[k0];
    const size_t l4 = TcpOffset(o0);
    Check(l4 == 20 || l4 == 40);
    const bool ipv6 = l4 == 40;
    const size_t header_size = TcpHeaderEnd(o0, l4);
    Check(vnet.flags == kVnetNeedsCsum && vnet.gso_type == (ipv6 ? kGsoTcpV6 : kGsoTcpV4));
    Check(vnet.csum_start == l4 && vnet.csum_offset == 16 && vnet.hdr_len == header_size);
    Check(vnet.gso_size == o0.size() - header_size);
    // Only the first packet's headers are rewritten.
    Check(std::equal(p0.begin() + header_size, p0.end(), o0.begin() + header_size));
    Check(TcpChecksumValid(o0, l4));

    Bytes super(p0.begin(), p0.end());
    uint32_t next_seq = Get32(&o0[l4 + 4]) + static_cast<uint32_t>(o0.size() - header_size);
    const std::string key = FlowKey(o0, l4);
    std::vector<size_t> members = {static_cast<size_t>(k0)};
    for (size_t j = first + 2; j < first + count; ++j) {
      const ptrdiff_t k = locate(out.iov[j]);
      Check(k >= 0);
      const Bytes& p = packets[k];
      const Bytes& o = originals[k];
      Check(p == o);
      Check(TcpOffset(o) == l4 && FlowKey(o, l4) == key && TcpChecksumValid(o, l4));
      Check(TcpHeaderEnd(o, l4) == header_size);
      // The payload: the packet's tail after its headers.
      Check(static_cast<const uint8_t*>(out.iov[j].iov_base) == p.data() + header_size);
      Check(out.iov[j].iov_len == p.size() - header_size);
      Check(out.iov[j].iov_len >= 1 && out.iov[j].iov_len <= vnet.gso_size);
      Check(Get32(&o[l4 + 4]) == next_seq);
      next_seq += static_cast<uint32_t>(out.iov[j].iov_len);
      Check(delivered[k]++ == 0);
      order.push_back(static_cast<size_t>(k));
      members.push_back(static_cast<size_t>(k));
      super.insert(super.end(), p.begin() + header_size, p.end());
    }
    Check(super.size() <= 65535);
    if (ipv6) {
      Check(Get16(&super[4]) == super.size() - 40);
    } else {
      Check(Get16(&super[2]) == super.size());
      Check(NaiveSum({super.data(), 20}) == 0xffff);
    }
    Check(Get16(&super[l4 + 16]) == NaivePseudoSum(super.data(), super.size() - l4));

    // It splits back into the members' payloads.
    const absl::StatusOr<TcpSuperPacket> parsed = InspectTcpSuperPacket(super, vnet);
    Check(parsed.ok() && parsed->segments == members.size());
    Bytes headers(header_size);
    for (size_t i = 0; i < members.size(); ++i) {
      const absl::Span<const uint8_t> payload =
          WriteTcpSegment(*parsed, super, i, absl::MakeSpan(headers));
      const Bytes& o = originals[members[i]];
      Check(payload.size() == o.size() - header_size);
      Check(std::equal(payload.begin(), payload.end(), o.begin() + header_size));
      Check(Get32(&headers[l4 + 4]) == Get32(&o[l4 + 4]));
    }
  }
  // Every input exactly once.
  for (const int times : delivered) Check(times == 1);
  Check(coalescer.joined() == joined && coalescer.super_packets() == super_packets);

  // Per-flow order, IPv4 packets with IP options included.
  std::map<std::string, size_t> last_seen;
  for (const size_t k : order) {
    const Bytes& o = originals[k];
    const size_t l4 = TcpOffset(o);
    if (l4 == 0) continue;
    const std::string key = FlowKey(o, l4);
    const auto it = last_seen.find(key);
    if (it != last_seen.end()) Check(it->second < k);
    last_seen[key] = k;
  }
}

}  // namespace
}  // namespace sstp::dataplane

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sstp::dataplane::kVnetHeaderSize;
  if (size < kVnetHeaderSize + 1) return 0;
  const sstp::dataplane::VnetHeader vnet =
      sstp::dataplane::ParseVnetHeader({data, kVnetHeaderSize});
  const uint8_t mode = data[kVnetHeaderSize];
  const absl::Span<const uint8_t> body(data + kVnetHeaderSize + 1, size - kVnetHeaderSize - 1);
  sstp::dataplane::FuzzSuperPacket(body, vnet, mode);
  sstp::dataplane::FuzzCoalescer(body, mode);
  return 0;
}
