// The data plane: moves IP packets between a TUN device and the SSTP
// connection on io_uring, in batches, with no per-packet allocation or
// system call in steady state.
//
//   TUN --read (provided buffers, 8 bytes of headroom)--> queued --> at
//   Flush(): SSTP + PPP headers written in place (a TSO super-packet is cut
//   into MRU-sized segments, their headers in the batch's arena, payloads
//   left where they are) --> batch --> one sendmsg per batch (kernel TLS: the
//   kernel cuts records of up to 16 KiB) or Seal() per 16 KiB (user space)
//   --> socket
//
//   socket --recvmsg (kernel TLS, plaintext) / recv + Open() (user space)-->
//   receive slot --> whole SSTP packets parsed in place --> IP frames: one
//   TUN write each, or (TUN offloads) consecutive TCP segments of a flow
//   joined into one, submitted together; everything else (SSTP control, LCP,
//   authentication, NCPs) to the ControlPlane.
//
// A packet cut by a receive boundary is moved to the front of the next slot,
// so every packet lies whole in one slot and TUN writes point into it; a
// slot is reused only when its writes have completed.
//
// Thread: the ring's thread. Lifetime: call Stop(), run the ring until
// stopped() is true, then destroy the Engine before the Ring.
#ifndef SSTP_KTLS_DAEMON_DATAPLANE_ENGINE_H_
#define SSTP_KTLS_DAEMON_DATAPLANE_ENGINE_H_

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/log.h"
#include "daemon/dataplane/offload.h"
#include "uring/buffer_ring.h"
#include "uring/ring.h"

namespace sstp::dataplane {

// The user-space record layer, as the engine sees it. Implemented over
// OpenSSL by the session (daemon/tls); absent in kernel-TLS mode, where the
// socket itself carries plaintext.
class RecordCodec {
 public:
  virtual ~RecordCodec() = default;
  // Protects `plaintext` (at most 16 KiB: one record) and appends the
  // record to `ciphertext`.
  virtual absl::Status Seal(absl::Span<const uint8_t> plaintext, std::vector<uint8_t>* ciphertext) = 0;
  // The most ciphertext a codec holds back between Open() calls: less than
  // one record, under 5 + 2^14 + 2048 bytes (RFC 5246 6.2.3).
  static constexpr size_t kMaxHeldCiphertext = 5 + 16384 + 2048;
  struct Opened {
    size_t plaintext = 0;  // Bytes written to the front of the space.
    bool closed = false;   // The peer's close_notify has arrived.
  };
  // Takes received bytes; writes the plaintext they complete to the front
  // of `plaintext`, which holds ciphertext.size() + kMaxHeldCiphertext
  // bytes, and appends any bytes the TLS layer must send back (e.g. a
  // KeyUpdate answer) to `to_send`.
  virtual absl::StatusOr<Opened> Open(absl::Span<const uint8_t> ciphertext,
                                      absl::Span<uint8_t> plaintext,
                                      std::vector<uint8_t>* to_send) = 0;
};

// What the engine hands to the control plane. Called from the ring's
// dispatch; handlers may call Engine::Send*() but must not destroy the
// engine.
class ControlPlane {
 public:
  // A whole SSTP control packet (header included).
  virtual void OnSstpControl(absl::Span<const uint8_t> packet) = 0;
  // A PPP frame that is not IPv4/IPv6 data (LCP, PAP, CHAP, EAP, IPCP,
  // IPv6CP, or a protocol to reject). `had_address_control` tells whether
  // the frame began with FF 03 (some servers drop frames without it).
  virtual void OnPppFrame(uint16_t protocol, absl::Span<const uint8_t> information,
                          bool had_address_control) = 0;
  // Something arrived from the server (once per receive): the SSTP hello
  // timer restarts on any received packet (MS-SSTP 3.1.2).
  virtual void OnTraffic() = 0;
  // A TLS record that is not application data, seen on a kernel-TLS socket
  // (alert 21, handshake 22: NewSessionTicket, KeyUpdate).
  virtual void OnTlsRecord(uint8_t content_type, absl::Span<const uint8_t> body) = 0;
  // The connection is over: peer closed, socket error, framing error,
  // close_notify. The engine issues no further socket I/O.
  virtual void OnTransportClosed(absl::Status reason) = 0;

 protected:
  ~ControlPlane() = default;
};

struct EngineOptions {
  int socket_fd = -1;
  RecordCodec* codec = nullptr;   // nullptr: the socket carries plaintext (kTLS).
  int mtu = 1400;                 // Largest IP packet sent (segments included).
  unsigned tun_read_depth = 64;   // TUN reads kept in flight.
  // Provided buffers (power of two): mtu + 8 bytes each, or 68 KiB for a TUN
  // with a virtio_net_hdr, where at most kMaxSuperBuffers (64) are used.
  unsigned tun_buffers = 256;
  size_t max_pending_bytes = 512 * 1024;  // Beyond this, TUN reads pause.
  uint16_t buffer_group = 1;
  const char* peer_name = "server";  // In messages: "the server closed ...".
};

struct Counters {
  uint64_t tx_packets = 0;   // IP packets TUN -> socket.
  uint64_t tx_bytes = 0;
  uint64_t rx_packets = 0;   // IP packets socket -> TUN.
  uint64_t rx_bytes = 0;
  uint64_t socket_sends = 0;
  uint64_t socket_receives = 0;
  uint64_t tun_write_batches = 0;
  uint64_t rx_dropped = 0;   // IP frames before the TUN was attached, or refused by it.
  uint64_t tx_dropped = 0;   // Packets read from the TUN that could not be framed.
  uint64_t tx_super_packets = 0;  // TSO super-packets read and cut into tx_packets.
  uint64_t rx_super_packets = 0;  // TUN writes that joined several rx_packets.
  uint64_t rx_joined = 0;         // Segments joined onto an earlier one.
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(uring::Ring& ring, EngineOptions options,
                                                        ControlPlane& control, Logger logger);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts receiving from the socket.
  void Start();

  // Queues a whole SSTP packet (a control message, or a data packet the
  // caller framed). Copied; goes out in order with data.
  absl::Status SendSstp(absl::Span<const uint8_t> packet);
  // Queues a PPP frame (FF 03 + protocol + information) in an SSTP data packet.
  absl::Status SendPpp(uint16_t protocol, absl::Span<const uint8_t> information);

  // User-space mode only: queues bytes the TLS layer produced itself (a
  // KeyUpdate or NewSessionTicket record): they go out ahead of the next
  // sealed batch, so every record sealed after this call follows them.
  absl::Status SendTlsBytes(absl::Span<const uint8_t> records);

  // Starts the TUN side: IP packets flow both ways from now on. The caller
  // does this only once CALL_CONNECTED is sent (MS-SSTP 3.2.5.3). The fd
  // must stay open until stopped(). `vnet_hdr`: the TUN has IFF_VNET_HDR
  // (netlink::TunOptions::offload): every packet read or written starts with
  // a virtio_net_hdr, reads may be TSO super-packets, and received TCP
  // segments are joined (offload.h).
  absl::Status AttachTun(int tun_fd, bool vnet_hdr = false);

  // Sends what was queued since the last send. Call once per loop turn,
  // before Ring::RunOnce() waits: batching comes from doing this once per
  // turn, not per packet.
  void Flush();

  // Cancels all I/O; stopped() turns true when the last completion is in.
  void Stop();
  bool stopped() const { return stopping_ && inflight_ == 0; }

  const Counters& counters() const { return counters_; }
  bool kernel_tls() const { return options_.codec == nullptr; }

  // The completion queue the engine's ring needs: all of a receive's TUN
  // writes are issued at once, up to one per 28 bytes (SSTP + PPP + the
  // smallest IPv4 header) of each of the kSlots slots, so ~10k at worst.
  // More than fit would go to the kernel's overflow list (slow, and lost if
  // its allocation fails).
  static constexpr unsigned kCompletionQueueEntries = 16384;

 private:
  struct Op;
  static constexpr int kSlots = 4;
  static constexpr size_t kMaxPacket = 4095;          // MS-SSTP 2.2.1.
  static constexpr size_t kReceiveSize = 64 * 1024;
  static constexpr size_t kHeadroom = 8;              // SSTP 4 + PPP 4.
  static constexpr size_t kSuperBufferSize = 68 * 1024;  // virtio_net_hdr + 64 KiB IP.
  // 4 MiB of super-packets: eight times the default max_pending_bytes, and
  // RSS stays well under the 32 MiB target (each buffer is touched in turn).
  static constexpr unsigned kMaxSuperBuffers = 64;
  static constexpr unsigned kTunReadsAfterPoll = 4;

  Engine(uring::Ring& ring, EngineOptions options, ControlPlane& control, Logger logger);

  struct TunPacket {
    uint16_t buffer;
    uint32_t length;
  };
  void ArmTunReads();
  void OnTunRead(int32_t res, uint32_t flags);
  void OnTunPoll(int32_t res);
  void FrameTunPackets();
  enum class Framed { kQueued, kDropped, kNoRoom };
  Framed FrameTunPacket(TunPacket packet);
  Framed FrameSuperPacket(uint16_t id, absl::Span<uint8_t> packet, const VnetHeader& vnet);
  void QueueTunBuffer(uint16_t id, const uint8_t* data, size_t length);
  void ArmReceive();
  void OnReceive(int32_t res);
  void ParseSlot(size_t length);
  void DeliverPacket(absl::Span<const uint8_t> packet);
  void IssueTunWrites(int slot);
  void OnTunWrite(int slot, int32_t res);
  void MoveTailAndReceive();
  void OnSend(int32_t res);
  void StartSend();
  void Fail(absl::Status reason);
  absl::Span<uint8_t> ControlArena(size_t size);

  uring::Ring& ring_;
  EngineOptions options_;
  ControlPlane& control_;
  Logger log_;
  Counters counters_;
  int tun_fd_ = -1;
  bool tun_vnet_hdr_ = false;
  bool started_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  int inflight_ = 0;

  std::unique_ptr<Op> tun_read_op_, tun_poll_op_, receive_op_, send_op_;
  std::array<std::unique_ptr<Op>, kSlots> tun_write_ops_;

  // Transmit. `pending_` is what the next send carries; `sending_` what the
  // kernel is sending now. Buffer ids are recycled when their bytes are out.
  std::unique_ptr<uring::BufferRing> tun_buffers_;
  unsigned tun_reads_inflight_ = 0;
  // The TUN fd is non-blocking: reads are issued while the queue may hold
  // packets (until one fails with EAGAIN); then a poll says when it may
  // again.
  bool tun_readable_ = true;
  bool tun_poll_armed_ = false;
  unsigned tun_read_limit_ = kTunReadsAfterPoll;  // Up to tun_read_depth.
  // Read from the TUN, framed at the next Flush(); [tun_in_head_, end).
  std::vector<TunPacket> tun_in_;
  size_t tun_in_head_ = 0;
  size_t tun_in_bytes_ = 0;
  struct Batch {
    std::vector<iovec> iov;
    std::vector<uint16_t> buffers;
    std::vector<uint8_t> arena;   // Control bytes and segment headers; reserved,
                                  // never reallocates.
    std::vector<uint8_t> cipher;  // User-space mode: sealed records.
    size_t bytes = 0;
  };
  Batch pending_, sending_;
  bool send_inflight_ = false;
  msghdr send_msg_{};
  size_t send_iov_index_ = 0;
  std::vector<uint8_t> seal_staging_;

  // Receive.
  std::array<std::vector<uint8_t>, kSlots> slots_;
  std::array<int, kSlots> slot_writes_{};
  int slot_ = 0;
  size_t carry_ = 0;        // Bytes of a cut packet at the front of slots_[slot_].
  bool receive_inflight_ = false;
  bool receive_blocked_ = false;  // Waiting for the next slot's TUN writes.
  // A cut packet waiting to move into slot_ once its TUN writes are done.
  int tail_from_ = 0;
  size_t tail_offset_ = 0;
  size_t tail_length_ = 0;
  // TUN offloads: the writes of each slot's packets, built while parsing it
  // and kept until they complete.
  std::array<TunWrites, kSlots> tun_writes_;
  TcpCoalescer coalescer_;
  msghdr receive_msg_{};
  iovec receive_iov_{};
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint8_t))> receive_cmsg_{};
  std::vector<uint8_t> cipher_in_;   // User-space mode: ciphertext received.
  std::vector<uint8_t> codec_reply_; // User-space mode: bytes Open() wants sent.
  bool peer_closed_ = false;
};

}  // namespace sstp::dataplane

#endif  // SSTP_KTLS_DAEMON_DATAPLANE_ENGINE_H_
