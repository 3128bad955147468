// TUN offloads: the data plane's side of IFF_VNET_HDR + TUNSETOFFLOAD.
//
// With offloads on, the kernel hands the TUN reader TCP super-packets of up
// to 64 KiB (TSO) and takes coalesced ones back (GRO), each preceded by a
// struct virtio_net_hdr (include/uapi/linux/virtio_net.h). The per-packet
// cost of the TUN and of the inner TCP stack is then paid per 64 KiB, not per
// 1400 bytes. SSTP itself still carries packets of at most the negotiated
// MRU, so:
//   - out (TUN -> SSTP): a super-packet is cut into the segments the kernel
//     would have sent (gso_size payload each), every one with its own IP and
//     TCP header and checksums (net/ipv4/tcp_offload.c tcp_gso_segment);
//   - in (SSTP -> TUN): consecutive segments of one TCP flow are joined into
//     one write, under the rules of the kernel's own GRO (tcp_gro_receive):
//     same flow, headers and ACK, contiguous sequence numbers, equal segment
//     sizes with only the last one shorter, PSH only at the end. Each segment's
//     checksum is verified first, because the kernel takes a joined packet's
//     checksum as already checked (CHECKSUM_PARTIAL).
// Everything here is pure: bytes in, bytes out. Not thread-safe.
#ifndef SSTP_KTLS_DAEMON_DATAPLANE_OFFLOAD_H_
#define SSTP_KTLS_DAEMON_DATAPLANE_OFFLOAD_H_

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace sstp::dataplane {

// struct virtio_net_hdr, as the TUN reads and writes it: little-endian
// fields (the device is set to TUNSETVNETLE).
inline constexpr size_t kVnetHeaderSize = 10;
inline constexpr uint8_t kVnetNeedsCsum = 1;   // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kGsoNone = 0;         // VIRTIO_NET_HDR_GSO_NONE
inline constexpr uint8_t kGsoTcpV4 = 1;        // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr uint8_t kGsoTcpV6 = 4;        // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr uint8_t kGsoEcn = 0x80;       // VIRTIO_NET_HDR_GSO_ECN

struct VnetHeader {
  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;      // Unreliable from the kernel (it reports the linear part).
  uint16_t gso_size = 0;     // Payload bytes per segment.
  uint16_t csum_start = 0;   // Where the checksummed part starts (the L4 header).
  uint16_t csum_offset = 0;  // Where, from csum_start, the checksum goes.

  bool operator==(const VnetHeader&) const = default;
};

VnetHeader ParseVnetHeader(absl::Span<const uint8_t> bytes);
void WriteVnetHeader(const VnetHeader& header, absl::Span<uint8_t> out);

// RFC 1071: the 16-bit one's complement sum of `data` read as big-endian
// words (an odd last byte padded with zero), added to `initial`, folded.
// Not complemented. Sums of even-length pieces add up with
// OnesComplementAdd().
uint16_t OnesComplementSum(absl::Span<const uint8_t> data, uint16_t initial = 0);
uint16_t OnesComplementAdd(uint16_t a, uint16_t b);
// The TCP/UDP pseudo-header (RFC 9293 3.1, RFC 8200 8.1) of an IPv4 or IPv6
// `packet` whose L4 part is `l4_length` bytes.
uint16_t PseudoHeaderSum(absl::Span<const uint8_t> packet, uint8_t protocol, size_t l4_length);

// A packet the kernel left with a partial checksum (NEEDS_CSUM, not GSO):
// sums from csum_start to the end and stores the complement at
// csum_start + csum_offset, as skb_checksum_help() would.
absl::Status CompleteChecksum(absl::Span<uint8_t> packet, const VnetHeader& vnet);

// A TSO super-packet, checked and measured for cutting.
struct TcpSuperPacket {
  bool ipv6 = false;
  size_t l4_offset = 0;    // IP header(s).
  size_t header_size = 0;  // IP + TCP headers, options included.
  size_t payload_size = 0;
  size_t gso_size = 0;
  size_t segments = 0;
};

// Checks `packet` (the IP packet after the virtio_net_hdr) against `vnet`
// (TCPV4 or TCPV6, NEEDS_CSUM) and measures it. Errors name the mismatch.
absl::StatusOr<TcpSuperPacket> InspectTcpSuperPacket(absl::Span<const uint8_t> packet,
                                                     const VnetHeader& vnet);

// Writes segment `index`'s IP and TCP headers (header_size bytes), with its
// length, IPv4 ID, sequence number, flags and both checksums, into
// `headers`, and returns its payload: a piece of `packet`. FIN and PSH stay
// on the last segment only, CWR on the first (as tcp_gso_segment does).
absl::Span<const uint8_t> WriteTcpSegment(const TcpSuperPacket& super,
                                          absl::Span<const uint8_t> packet, size_t index,
                                          absl::Span<uint8_t> headers);

// TUN writes for a batch of received packets: raw packets and coalesced
// super-packets, each as a list of iovecs that starts with its
// virtio_net_hdr.
struct TunWrites {
  TunWrites();
  void Clear();

  std::vector<iovec> iov;
  std::vector<std::pair<uint32_t, uint32_t>> writes;  // [first iov, count) per write.
  // The virtio_net_hdr of each coalesced write. Reserved once and never
  // grown, so the iovecs that point here stay valid; when it is full, the
  // rest of the batch goes out uncoalesced.
  std::vector<std::array<uint8_t, kVnetHeaderSize>> headers;
};

class TcpCoalescer {
 public:
  static constexpr size_t kMaxOpen = 8;       // Flows joined at once.
  static constexpr size_t kMaxSegments = 64;  // Per super-packet.

  // Takes the next packet for the TUN. Its bytes must stay in place, and
  // untouched by the caller, until the writes complete: a coalesced packet's
  // first segment has its IP and TCP headers rewritten, and the iovecs point
  // into all of them.
  void Add(absl::Span<uint8_t> packet, TunWrites& out);
  // Emits everything still open, in the order it was opened.
  void Finish(TunWrites& out);

  // Segments joined onto an earlier one, since construction.
  uint64_t joined() const { return joined_; }
  // Coalesced writes, since construction.
  uint64_t super_packets() const { return super_packets_; }

 private:
  struct Flow {
    bool open = false;
    uint64_t order = 0;
    bool sealed = false;  // A short or PSH segment ended it.
    bool ipv6 = false;
    size_t l4_offset = 0;
    size_t header_size = 0;
    size_t gso_size = 0;
    size_t total = 0;     // IP length of the joined packet so far.
    uint32_t next_seq = 0;
    uint16_t next_id = 0;
    bool psh = false;
    size_t count = 0;
    std::array<absl::Span<uint8_t>, kMaxSegments> packets;
  };

  Flow* Find(absl::Span<const uint8_t> packet, size_t l4_offset);
  bool Appendable(const Flow& flow, absl::Span<const uint8_t> packet) const;
  void Open(Flow& flow, absl::Span<uint8_t> packet, size_t l4_offset, size_t header_size);
  void Close(Flow& flow, TunWrites& out);
  static void EmitRaw(absl::Span<uint8_t> packet, TunWrites& out);

  std::array<Flow, kMaxOpen> flows_;
  uint64_t next_order_ = 0;
  uint64_t joined_ = 0;
  uint64_t super_packets_ = 0;
};

}  // namespace sstp::dataplane

#endif  // SSTP_KTLS_DAEMON_DATAPLANE_OFFLOAD_H_
