#include "daemon/dataplane/engine.h"

#include <fcntl.h>
#include <linux/tls.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "daemon/ppp/frame.h"
#include "daemon/sstp/packet.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace sstp::dataplane {
namespace {

constexpr uint8_t kTlsApplicationData = 23;  // RFC 8446 5.1 ContentType.
constexpr size_t kMaxRecordPlaintext = 16384;  // RFC 8446 5.1: 2^14.
constexpr size_t kMaxIovPerSend = 1024;        // IOV_MAX.
// Control packets, and the headers of cut super-packets: one 64 KiB
// super-packet cut at the smallest MSS (88 bytes) needs 745 x 108 bytes.
constexpr size_t kArenaCapacity = 256 * 1024;

// At least a whole IP header of the version the PPP protocol names. Anything
// shorter the TUN refuses; dropping it here keeps a hostile peer's tiny
// frames from costing one write (and one completion) each.
bool LooksLikeIp(uint16_t protocol, absl::Span<const uint8_t> packet) {
  if (protocol == ppp::kProtocolIpv4) return packet.size() >= 20 && packet[0] >> 4 == 4;
  return packet.size() >= 40 && packet[0] >> 4 == 6;
}

}  // namespace

// One object per kind of in-flight operation; its address is user_data.
// Several reads (or TUN writes of one slot) share one object: what a
// completion needs is in the CQE (byte count, buffer id) or in `slot`.
struct Engine::Op final : uring::Completion {
  enum class Kind { kTunRead, kTunPoll, kReceive, kSend, kTunWrite };
  Op(Engine* engine, Kind kind, int slot = 0) : engine(engine), kind(kind), slot(slot) {}

  void OnComplete(int32_t res, uint32_t flags) override {
    --engine->inflight_;
    switch (kind) {
      case Kind::kTunRead:
        engine->OnTunRead(res, flags);
        return;
      case Kind::kTunPoll:
        engine->OnTunPoll(res);
        return;
      case Kind::kReceive:
        engine->OnReceive(res);
        return;
      case Kind::kSend:
        engine->OnSend(res);
        return;
      case Kind::kTunWrite:
        engine->OnTunWrite(slot, res);
        return;
    }
  }

  Engine* engine;
  Kind kind;
  int slot;
};

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(uring::Ring& ring, EngineOptions options,
                                                       ControlPlane& control, Logger logger) {
  if (options.socket_fd < 0) return absl::InvalidArgumentError("data plane: no socket");
  if (options.mtu < 68 || options.mtu > static_cast<int>(proto::kMaxDataPayload - ppp::kFrameHeaderSize)) {
    return absl::InvalidArgumentError(absl::StrCat("data plane: MTU ", options.mtu, " out of range"));
  }
  if (!ring.features().provided_buffer_rings) {
    return absl::UnimplementedError(
        "data plane: the kernel's io_uring lacks provided buffer rings (Linux 5.19+ needed)");
  }
  return std::unique_ptr<Engine>(new Engine(ring, options, control, std::move(logger)));
}

Engine::Engine(uring::Ring& ring, EngineOptions options, ControlPlane& control, Logger logger)
    : ring_(ring), options_(options), control_(control), log_(std::move(logger)) {
  tun_read_op_ = std::make_unique<Op>(this, Op::Kind::kTunRead);
  tun_poll_op_ = std::make_unique<Op>(this, Op::Kind::kTunPoll);
  receive_op_ = std::make_unique<Op>(this, Op::Kind::kReceive);
  send_op_ = std::make_unique<Op>(this, Op::Kind::kSend);
  for (int i = 0; i < kSlots; ++i) {
    tun_write_ops_[i] = std::make_unique<Op>(this, Op::Kind::kTunWrite, i);
    // Kernel TLS receives straight into the slot, the user-space codec
    // decrypts into it; sized once, so no receive pays for zero-filling a
    // resize. Decrypting needs room for the record tail the codec held back.
    slots_[i].resize(kMaxPacket + kReceiveSize +
                     (kernel_tls() ? 0 : RecordCodec::kMaxHeldCiphertext));
  }
  tun_in_.reserve(options_.tun_buffers);
  for (Batch* batch : {&pending_, &sending_}) {
    batch->iov.reserve(4096);
    batch->buffers.reserve(options_.tun_buffers);
    batch->arena.reserve(kArenaCapacity);
    if (!kernel_tls()) batch->cipher.reserve(options_.max_pending_bytes + 2 * kMaxRecordPlaintext);
  }
  if (!kernel_tls()) {
    seal_staging_.reserve(options_.max_pending_bytes + kArenaCapacity);
    cipher_in_.resize(kReceiveSize);
    codec_reply_.reserve(4096);
  }
}

Engine::~Engine() {
  if (inflight_ > 0) {
    log_.Error("data plane destroyed with %d operations in flight (Stop() not drained)", inflight_);
  }
}

void Engine::Start() {
  started_ = true;
  ArmReceive();
}

absl::Status Engine::AttachTun(int tun_fd, bool vnet_hdr) {
  if (tun_fd_ >= 0) return absl::FailedPreconditionError("data plane: TUN already attached");
  // Non-blocking, so that io_uring reads and writes the TUN inline. A TUN
  // has no FMODE_NOWAIT on Debian 12's 6.1: on a blocking fd every write
  // would go to an io-wq thread and every read that finds the queue empty
  // through io_uring's async poll.
  // Here an empty queue fails the read with EAGAIN, and a poll
  // (ArmTunReads) says when to read again.
  const int flags = fcntl(tun_fd, F_GETFL);
  if (flags < 0) return LastErrnoStatus("data plane: TUN fd");
  if (!(flags & O_NONBLOCK) && fcntl(tun_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return LastErrnoStatus("data plane: making the TUN fd non-blocking");
  }
  // With a virtio_net_hdr in front, the SSTP and PPP headers of a plain
  // packet go where the last 8 bytes of the virtio_net_hdr were.
  static_assert(kVnetHeaderSize >= kHeadroom);
  tun_vnet_hdr_ = vnet_hdr;
  if (tun_vnet_hdr_) {
    ASSIGN_OR_RETURN(tun_buffers_, uring::BufferRing::Create(
                                       ring_, options_.buffer_group,
                                       std::min(options_.tun_buffers, kMaxSuperBuffers),
                                       kSuperBufferSize, 0));
  } else {
    ASSIGN_OR_RETURN(tun_buffers_,
                     uring::BufferRing::Create(ring_, options_.buffer_group, options_.tun_buffers,
                                               kHeadroom + static_cast<size_t>(options_.mtu),
                                               kHeadroom));
  }
  tun_fd_ = tun_fd;
  ArmTunReads();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- transmit

void Engine::ArmTunReads() {
  if (tun_fd_ < 0 || stopping_ || failed_) return;
  // Back-pressure: while the socket is behind, leave packets in the TUN
  // queue, where the kernel drops them fairly, rather than here.
  if (pending_.bytes + sending_.bytes + tun_in_bytes_ >= options_.max_pending_bytes) return;
  if (!tun_readable_) {
    // A read found the queue empty: one poll says when it is not. (Armed
    // after the EAGAIN, it completes at once if a packet came in between.)
    if (!tun_poll_armed_) {
      io_uring_prep_poll_add(ring_.NextSqe(tun_poll_op_.get()), tun_fd_, POLLIN);
      tun_poll_armed_ = true;
      ++inflight_;
    }
    return;
  }
  const size_t read_size = tun_buffers_->buffer_size() - tun_buffers_->headroom();
  while (tun_reads_inflight_ < std::min(tun_read_limit_, options_.tun_read_depth)) {
    io_uring_sqe* sqe = ring_.NextSqe(tun_read_op_.get());
    io_uring_prep_read(sqe, tun_fd_, nullptr, static_cast<unsigned>(read_size), 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = options_.buffer_group;
    ++tun_reads_inflight_;
    ++inflight_;
  }
}

void Engine::OnTunRead(int32_t res, uint32_t flags) {
  --tun_reads_inflight_;
  const bool has_buffer = uring::BufferRing::HasBuffer(flags);
  const uint16_t id = has_buffer ? uring::BufferRing::BufferId(flags) : 0;
  if (res == -EAGAIN) {
    // The queue is empty; a poll wakes the reads. (Whether the buffer picked
    // for the read comes back in the CQE depends on the kernel.)
    if (has_buffer) tun_buffers_->Recycle(id);
    tun_readable_ = false;
    ArmTunReads();
    return;
  }
  if (stopping_ || failed_ || res <= 0) {
    if (has_buffer) tun_buffers_->Recycle(id);
    // -ENOBUFS: every buffer is queued for sending; reads resume when a
    // send completes and recycles them.
    if (res < 0 && res != -ENOBUFS && res != -ECANCELED && !stopping_) {
      Fail(ErrnoStatus(-res, "read from TUN"));
    }
    return;
  }
  tun_in_.push_back({id, static_cast<uint32_t>(res)});
  tun_in_bytes_ += static_cast<size_t>(res);
  tun_read_limit_ = options_.tun_read_depth;  // Traffic: read on at full depth.
  ArmTunReads();
}

void Engine::OnTunPoll(int32_t res) {
  tun_poll_armed_ = false;
  if (stopping_ || failed_ || res == -ECANCELED) return;
  if (res < 0) {
    Fail(ErrnoStatus(-res, "poll on the TUN"));
    return;
  }
  tun_readable_ = true;
  // A few reads first: after a quiet spell most would find nothing.
  tun_read_limit_ = kTunReadsAfterPoll;
  ArmTunReads();
}

void Engine::FrameTunPackets() {
  while (tun_in_head_ < tun_in_.size()) {
    const TunPacket packet = tun_in_[tun_in_head_];
    const Framed framed = FrameTunPacket(packet);
    if (framed == Framed::kNoRoom && pending_.bytes > 0) break;  // After this batch.
    if (framed != Framed::kQueued) {
      ++counters_.tx_dropped;
      tun_buffers_->Recycle(packet.buffer);
    }
    ++tun_in_head_;
    tun_in_bytes_ -= packet.length;
  }
  if (tun_in_head_ == tun_in_.size()) {
    tun_in_.clear();
    tun_in_head_ = 0;
  } else if (tun_in_head_ >= options_.tun_buffers) {
    // A batch that keeps ending before the queue does: drop what was framed.
    tun_in_.erase(tun_in_.begin(), tun_in_.begin() + static_cast<std::ptrdiff_t>(tun_in_head_));
    tun_in_head_ = 0;
  }
  // Reads paused for back-pressure resume here too: when everything read was
  // dropped, no send follows to resume them.
  ArmTunReads();
}

// Writes the SSTP and PPP headers into the 8 bytes in front of the IP packet
// at `data` and queues the whole as one piece of the batch.
void Engine::QueueTunBuffer(uint16_t id, const uint8_t* data, size_t length) {
  uint8_t* header = const_cast<uint8_t*>(data) - kHeadroom;
  const uint16_t protocol = data[0] >> 4 == 6 ? ppp::kProtocolIpv6 : ppp::kProtocolIpv4;
  // Cannot fail: length <= mtu fits SSTP, and the protocol is valid.
  (void)proto::WriteDataHeader({header, 4}, ppp::kFrameHeaderSize + length);
  (void)ppp::WriteFrameHeader({header + 4, 4}, protocol);
  pending_.iov.push_back({header, kHeadroom + length});
  pending_.buffers.push_back(id);
  pending_.bytes += kHeadroom + length;
  ++counters_.tx_packets;
  counters_.tx_bytes += length;
}

Engine::Framed Engine::FrameTunPacket(TunPacket packet) {
  absl::Span<uint8_t> buffer = tun_buffers_->Buffer(packet.buffer);
  size_t offset = tun_buffers_->headroom();
  size_t length = packet.length;
  VnetHeader vnet;
  if (tun_vnet_hdr_) {
    if (length <= kVnetHeaderSize) return Framed::kDropped;
    vnet = ParseVnetHeader(buffer.first(kVnetHeaderSize));
    offset = kVnetHeaderSize;
    length -= kVnetHeaderSize;
  }
  absl::Span<uint8_t> ip = buffer.subspan(offset, length);
  const uint8_t version = ip[0] >> 4;
  if (version != 4 && version != 6) return Framed::kDropped;
  if (vnet.gso_type != kGsoNone) return FrameSuperPacket(packet.buffer, ip, vnet);
  if (length > static_cast<size_t>(options_.mtu)) return Framed::kDropped;
  if (vnet.flags & kVnetNeedsCsum) {
    if (absl::Status s = CompleteChecksum(ip, vnet); !s.ok()) {
      log_.Debug("dropped a TUN packet: %s", std::string(s.message()));
      return Framed::kDropped;
    }
  }
  QueueTunBuffer(packet.buffer, ip.data(), length);
  return Framed::kQueued;
}

Engine::Framed Engine::FrameSuperPacket(uint16_t id, absl::Span<uint8_t> packet,
                                        const VnetHeader& vnet) {
  absl::StatusOr<TcpSuperPacket> super = InspectTcpSuperPacket(packet, vnet);
  if (!super.ok()) {
    log_.Debug("dropped a TUN packet: %s", std::string(super.status().message()));
    return Framed::kDropped;
  }
  if (super->header_size + super->gso_size > static_cast<size_t>(options_.mtu)) {
    log_.Debug("dropped a TSO packet: %zu-byte segments exceed the MTU %d",
               super->header_size + super->gso_size, options_.mtu);
    return Framed::kDropped;
  }
  const size_t header_bytes = kHeadroom + super->header_size;
  std::vector<uint8_t>& arena = pending_.arena;
  if (arena.size() + super->segments * header_bytes > arena.capacity()) return Framed::kNoRoom;
  for (size_t i = 0; i < super->segments; ++i) {
    absl::Span<uint8_t> headers = ControlArena(header_bytes);
    const absl::Span<const uint8_t> payload =
        WriteTcpSegment(*super, packet, i, headers.subspan(kHeadroom));
    const size_t ip_length = super->header_size + payload.size();
    (void)proto::WriteDataHeader(headers.first(4), ppp::kFrameHeaderSize + ip_length);
    (void)ppp::WriteFrameHeader(headers.subspan(4, 4),
                                super->ipv6 ? ppp::kProtocolIpv6 : ppp::kProtocolIpv4);
    pending_.iov.push_back({headers.data(), headers.size()});
    pending_.iov.push_back({const_cast<uint8_t*>(payload.data()), payload.size()});
    pending_.bytes += kHeadroom + ip_length;
    counters_.tx_bytes += ip_length;
  }
  pending_.buffers.push_back(id);
  counters_.tx_packets += super->segments;
  ++counters_.tx_super_packets;
  return Framed::kQueued;
}

absl::Span<uint8_t> Engine::ControlArena(size_t size) {
  std::vector<uint8_t>& arena = pending_.arena;
  if (arena.size() + size > arena.capacity()) return {};
  const size_t offset = arena.size();
  arena.resize(offset + size);
  return absl::MakeSpan(arena).subspan(offset, size);
}

absl::Status Engine::SendSstp(absl::Span<const uint8_t> packet) {
  if (packet.empty()) return absl::InvalidArgumentError("data plane: empty SSTP packet");
  if (failed_ || stopping_) return absl::FailedPreconditionError("data plane: connection closed");
  absl::Span<uint8_t> space = ControlArena(packet.size());
  if (space.empty()) {
    return absl::ResourceExhaustedError("data plane: control queue full");
  }
  std::memcpy(space.data(), packet.data(), packet.size());
  pending_.iov.push_back({space.data(), space.size()});
  pending_.bytes += space.size();
  return absl::OkStatus();
}

absl::Status Engine::SendPpp(uint16_t protocol, absl::Span<const uint8_t> information) {
  const size_t payload = ppp::kFrameHeaderSize + information.size();
  if (payload > proto::kMaxDataPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat("PPP frame of ", payload, " bytes exceeds SSTP's ", proto::kMaxDataPayload));
  }
  if (failed_ || stopping_) return absl::FailedPreconditionError("data plane: connection closed");
  absl::Span<uint8_t> space = ControlArena(proto::kHeaderSize + payload);
  if (space.empty()) return absl::ResourceExhaustedError("data plane: control queue full");
  RETURN_IF_ERROR(proto::WriteDataHeader(space.first(4), payload));
  RETURN_IF_ERROR(ppp::WriteFrameHeader(space.subspan(4, 4), protocol));
  if (!information.empty()) std::memcpy(space.data() + 8, information.data(), information.size());
  pending_.iov.push_back({space.data(), space.size()});
  pending_.bytes += space.size();
  return absl::OkStatus();
}

absl::Status Engine::SendTlsBytes(absl::Span<const uint8_t> records) {
  if (kernel_tls()) return absl::FailedPreconditionError("data plane: the kernel owns the TLS records");
  if (failed_ || stopping_) return absl::FailedPreconditionError("data plane: connection closed");
  codec_reply_.insert(codec_reply_.end(), records.begin(), records.end());
  return absl::OkStatus();
}

void Engine::Flush() {
  if (failed_ || stopping_) return;
  FrameTunPackets();
  if (send_inflight_) return;
  if (pending_.bytes == 0 && codec_reply_.empty()) return;
  std::swap(pending_, sending_);  // sending_ was empty; capacities travel along.
  send_iov_index_ = 0;
  if (!kernel_tls()) {
    // User space: TLS records are cut here, at most 16 KiB of plaintext each,
    // after any bytes the TLS layer itself asked to send.
    std::vector<uint8_t>& cipher = sending_.cipher;
    cipher.assign(codec_reply_.begin(), codec_reply_.end());
    codec_reply_.clear();
    seal_staging_.clear();
    for (const iovec& v : sending_.iov) {
      const uint8_t* p = static_cast<const uint8_t*>(v.iov_base);
      seal_staging_.insert(seal_staging_.end(), p, p + v.iov_len);
    }
    for (size_t off = 0; off < seal_staging_.size(); off += kMaxRecordPlaintext) {
      const size_t n = std::min(kMaxRecordPlaintext, seal_staging_.size() - off);
      if (absl::Status s = options_.codec->Seal(absl::MakeConstSpan(seal_staging_).subspan(off, n), &cipher);
          !s.ok()) {
        Fail(Annotate(s, "TLS encrypt"));
        return;
      }
    }
    for (uint16_t id : sending_.buffers) tun_buffers_->Recycle(id);
    sending_.buffers.clear();
    sending_.iov.assign(1, iovec{cipher.data(), cipher.size()});
    sending_.bytes = cipher.size();
  }
  StartSend();
}

void Engine::StartSend() {
  const size_t end = std::min(sending_.iov.size(), send_iov_index_ + kMaxIovPerSend);
  send_msg_ = msghdr{};
  send_msg_.msg_iov = sending_.iov.data() + send_iov_index_;
  send_msg_.msg_iovlen = end - send_iov_index_;
  io_uring_sqe* sqe = ring_.NextSqe(send_op_.get());
  io_uring_prep_sendmsg(sqe, options_.socket_fd, &send_msg_, MSG_NOSIGNAL);
  send_inflight_ = true;
  ++inflight_;
  ++counters_.socket_sends;
}

void Engine::OnSend(int32_t res) {
  send_inflight_ = false;
  if (stopping_ || failed_) return;
  if (res < 0) {
    Fail(ErrnoStatus(-res, absl::StrCat("send to ", options_.peer_name)));
    return;
  }
  // Advance past what went out; a short send resumes mid-iovec.
  size_t sent = static_cast<size_t>(res);
  while (sent > 0 && send_iov_index_ < sending_.iov.size()) {
    iovec& v = sending_.iov[send_iov_index_];
    if (sent >= v.iov_len) {
      sent -= v.iov_len;
      ++send_iov_index_;
    } else {
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + sent;
      v.iov_len -= sent;
      sent = 0;
    }
  }
  if (send_iov_index_ < sending_.iov.size()) {
    StartSend();
    return;
  }
  for (uint16_t id : sending_.buffers) tun_buffers_->Recycle(id);
  sending_.buffers.clear();
  sending_.iov.clear();
  sending_.arena.clear();
  sending_.bytes = 0;
  Flush();  // Whatever piled up meanwhile goes out as the next batch (and
            // FrameTunPackets() re-arms the TUN reads).
}

// ----------------------------------------------------------------- receive

void Engine::ArmReceive() {
  if (!started_ || stopping_ || failed_ || peer_closed_ || receive_inflight_) return;
  if (slot_writes_[slot_] > 0) {
    receive_blocked_ = true;
    return;
  }
  io_uring_sqe* sqe = ring_.NextSqe(receive_op_.get());
  if (kernel_tls()) {
    receive_iov_ = {slots_[slot_].data() + carry_, kReceiveSize};
    receive_msg_ = msghdr{};
    receive_msg_.msg_iov = &receive_iov_;
    receive_msg_.msg_iovlen = 1;
    // Room for TLS_GET_RECORD_TYPE: without it a non-data record fails the
    // receive with EIO (KTLS-NOTES.md).
    receive_msg_.msg_control = receive_cmsg_.data();
    receive_msg_.msg_controllen = receive_cmsg_.size();
    io_uring_prep_recvmsg(sqe, options_.socket_fd, &receive_msg_, 0);
  } else {
    io_uring_prep_recv(sqe, options_.socket_fd, cipher_in_.data(), cipher_in_.size(), 0);
  }
  receive_inflight_ = true;
  ++inflight_;
}

void Engine::OnReceive(int32_t res) {
  receive_inflight_ = false;
  if (stopping_ || failed_) return;
  if (res == 0) {
    Fail(absl::UnavailableError(absl::StrCat("the ", options_.peer_name, " closed the TCP connection")));
    return;
  }
  if (res < 0) {
    if (kernel_tls() && res == -EBADMSG) {
      // The kernel could not authenticate a record (RFC 8446 bad_record_mac):
      // wrong keys or sequence, or a corrupted stream.
      Fail(absl::DataLossError(absl::StrCat("kernel TLS: a record from the ", options_.peer_name,
                                            " failed authentication (EBADMSG, bad_record_mac)")));
      return;
    }
    Fail(ErrnoStatus(-res, absl::StrCat("receive from ", options_.peer_name)));
    return;
  }
  ++counters_.socket_receives;
  control_.OnTraffic();
  if (failed_ || stopping_) return;

  size_t length;
  if (kernel_tls()) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&receive_msg_); c != nullptr; c = CMSG_NXTHDR(&receive_msg_, c)) {
      if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE) {
        const uint8_t type = *CMSG_DATA(c);
        if (type != kTlsApplicationData) {
          control_.OnTlsRecord(type, absl::MakeConstSpan(slots_[slot_].data() + carry_,
                                                         static_cast<size_t>(res)));
          ArmReceive();
          return;
        }
      }
    }
    length = carry_ + static_cast<size_t>(res);
  } else {
    absl::StatusOr<RecordCodec::Opened> opened = options_.codec->Open(
        absl::MakeConstSpan(cipher_in_).first(static_cast<size_t>(res)),
        absl::MakeSpan(slots_[slot_]).subspan(carry_), &codec_reply_);
    if (!opened.ok()) {
      Fail(Annotate(opened.status(), "TLS"));
      return;
    }
    peer_closed_ = opened->closed;
    length = carry_ + opened->plaintext;
  }
  ParseSlot(length);
  if (peer_closed_ && !failed_) {
    Fail(absl::CancelledError(
        absl::StrCat("the ", options_.peer_name, " closed the TLS session (close_notify)")));
  }
}

void Engine::ParseSlot(size_t length) {
  const int slot = slot_;
  uint8_t* data = slots_[slot].data();
  // A receive only lands in a slot whose writes are done (ArmReceive).
  tun_writes_[slot].Clear();
  size_t offset = 0;
  while (length - offset >= proto::kHeaderSize) {
    absl::StatusOr<proto::PacketHeader> header =
        proto::ParseHeader(absl::MakeConstSpan(data + offset, proto::kHeaderSize));
    if (!header.ok()) {
      // MS-SSTP 3.1.5.1: once framing is lost the stream cannot be resynced.
      coalescer_.Finish(tun_writes_[slot]);  // Drops its views of the slot.
      Fail(Annotate(header.status(), "SSTP framing"));
      return;
    }
    if (length - offset < header->length) break;
    DeliverPacket(absl::MakeConstSpan(data + offset, header->length));
    if (failed_ || stopping_) {
      coalescer_.Finish(tun_writes_[slot]);  // Drops its views of the slot.
      return;
    }
    offset += header->length;
  }
  IssueTunWrites(slot);

  // The cut packet (if any) moves to the front of the slot the next receive
  // uses: this one if nothing in it is being written to the TUN, else the next.
  const size_t tail = length - offset;
  if (slot_writes_[slot] == 0) {
    if (tail > 0 && offset > 0) std::memmove(data, data + offset, tail);
    carry_ = tail;
    ArmReceive();
    return;
  }
  const int next = (slot + 1) % kSlots;
  tail_offset_ = offset;
  tail_length_ = tail;
  tail_from_ = slot;
  slot_ = next;
  MoveTailAndReceive();
}

void Engine::MoveTailAndReceive() {
  if (slot_writes_[slot_] > 0) {
    receive_blocked_ = true;  // OnTunWrite() resumes.
    return;
  }
  receive_blocked_ = false;
  std::vector<uint8_t>& to = slots_[slot_];
  if (tail_length_ > 0) {
    std::memcpy(to.data(), slots_[tail_from_].data() + tail_offset_, tail_length_);
  }
  carry_ = tail_length_;
  tail_length_ = 0;
  ArmReceive();
}

void Engine::DeliverPacket(absl::Span<const uint8_t> packet) {
  const bool control = packet[1] & 0x01;  // MS-SSTP 2.2.1: the C bit.
  if (control) {
    control_.OnSstpControl(packet);
    return;
  }
  absl::StatusOr<ppp::Frame> frame = ppp::DecodeFrame(packet.subspan(proto::kHeaderSize));
  if (!frame.ok()) {
    ++counters_.rx_dropped;
    log_.Debug("dropped a malformed PPP frame: %s", std::string(frame.status().message()));
    return;
  }
  if (frame->protocol != ppp::kProtocolIpv4 && frame->protocol != ppp::kProtocolIpv6) {
    const absl::Span<const uint8_t> payload = packet.subspan(proto::kHeaderSize);
    control_.OnPppFrame(frame->protocol, frame->information,
                        payload.size() >= 2 && payload[0] == ppp::kAllStationsAddress &&
                            payload[1] == ppp::kUnnumberedInformation);
    return;
  }
  if (tun_fd_ < 0 || !LooksLikeIp(frame->protocol, frame->information)) {
    // Not even an IP header: one TUN write each would be refused anyway.
    ++counters_.rx_dropped;
    return;
  }
  ++counters_.rx_packets;
  counters_.rx_bytes += frame->information.size();
  if (tun_vnet_hdr_) {
    // The slot is ours; the coalescer may rewrite the IP and TCP headers.
    coalescer_.Add({const_cast<uint8_t*>(frame->information.data()), frame->information.size()},
                   tun_writes_[slot_]);
    return;
  }
  io_uring_sqe* sqe = ring_.NextSqe(tun_write_ops_[slot_].get());
  io_uring_prep_write(sqe, tun_fd_, frame->information.data(),
                      static_cast<unsigned>(frame->information.size()), 0);
  ++slot_writes_[slot_];
  ++inflight_;
}

void Engine::IssueTunWrites(int slot) {
  if (tun_vnet_hdr_) {
    TunWrites& writes = tun_writes_[slot];
    coalescer_.Finish(writes);
    counters_.rx_super_packets = coalescer_.super_packets();
    counters_.rx_joined = coalescer_.joined();
    // The iovecs stay in `writes` until the slot's writes complete.
    for (const auto& [first, count] : writes.writes) {
      io_uring_sqe* sqe = ring_.NextSqe(tun_write_ops_[slot].get());
      io_uring_prep_writev(sqe, tun_fd_, &writes.iov[first], count, 0);
      ++slot_writes_[slot];
      ++inflight_;
    }
  }
  // The slot had no writes before its receive (ArmReceive).
  if (slot_writes_[slot] > 0) ++counters_.tun_write_batches;
}

void Engine::OnTunWrite(int slot, int32_t res) {
  --slot_writes_[slot];
  if (res < 0 && res != -ECANCELED) {
    ++counters_.rx_dropped;  // The kernel refused the packet (e.g. malformed IP).
  }
  if (receive_blocked_ && slot == slot_ && slot_writes_[slot] == 0 && !stopping_ && !failed_) {
    MoveTailAndReceive();
  }
}

// ------------------------------------------------------------------ stopping

void Engine::Fail(absl::Status reason) {
  if (failed_) return;
  failed_ = true;
  control_.OnTransportClosed(std::move(reason));
}

void Engine::Stop() {
  if (stopping_) return;
  stopping_ = true;
  for (int fd : {options_.socket_fd, tun_fd_}) {
    if (fd < 0) continue;
    io_uring_prep_cancel_fd(ring_.NextSqe(nullptr), fd, IORING_ASYNC_CANCEL_ALL);
  }
}

}  // namespace sstp::dataplane
