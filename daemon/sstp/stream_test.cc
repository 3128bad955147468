#include "daemon/sstp/stream.h"

#include <cstdint>
#include <random>
#include <vector>

#include "base/hex.h"
#include "daemon/sstp/packet.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sstp::proto {
namespace {

using ::testing::ElementsAreArray;

using Packets = std::vector<std::vector<uint8_t>>;

std::vector<uint8_t> DataPacketOf(size_t payload_size, uint8_t fill) {
  std::vector<uint8_t> payload(payload_size);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(fill + i);
  return *EncodeDataPacket(payload);
}

// A stream mixing control packets and data packets of many sizes, including
// the smallest (5 bytes) and the largest (4095 bytes).
Packets SamplePackets() {
  Packets packets;
  packets.push_back(EncodeCallConnectRequest());
  packets.push_back(EncodeEchoRequest());
  packets.push_back(DataPacketOf(1, 0x10));
  packets.push_back(DataPacketOf(kMaxDataPayload, 0x20));
  packets.push_back(EncodeCallConnected(CryptoBinding{}));
  for (size_t size : {2, 3, 4, 40, 1400, 1500, 4000}) {
    packets.push_back(DataPacketOf(size, static_cast<uint8_t>(size)));
  }
  packets.push_back(EncodeCallAbort(StatusInfo{.attrib_id = 0,
                                               .status = StatusCode::kNegotiationTimeout}));
  packets.push_back(DataPacketOf(kMaxDataPayload, 0x77));
  packets.push_back(EncodeEchoResponse());
  return packets;
}

std::vector<uint8_t> Concat(const Packets& packets) {
  std::vector<uint8_t> out;
  for (const auto& p : packets) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Feeds `stream` in chunks of the given sizes (the last chunk takes the
// rest) and collects the packets.
Packets FeedInChunks(const std::vector<uint8_t>& stream, const std::vector<size_t>& sizes,
                     PacketReassembler& reassembler, absl::Status* status) {
  Packets out;
  size_t pos = 0;
  size_t i = 0;
  *status = absl::OkStatus();
  while (pos < stream.size()) {
    size_t n = i < sizes.size() ? std::min(sizes[i], stream.size() - pos) : stream.size() - pos;
    ++i;
    *status = reassembler.Feed(
        absl::MakeConstSpan(stream).subspan(pos, n),
        [&](absl::Span<const uint8_t> packet) { out.emplace_back(packet.begin(), packet.end()); });
    pos += n;
    if (!status->ok()) break;
  }
  return out;
}

TEST(StreamTest, WholeStreamInOneChunk) {
  const Packets packets = SamplePackets();
  const std::vector<uint8_t> stream = Concat(packets);
  PacketReassembler reassembler;
  Packets out;
  ASSERT_TRUE(reassembler
                  .Feed(stream,
                        [&](absl::Span<const uint8_t> packet) {
                          // Whole packets inside the chunk are not copied.
                          EXPECT_GE(packet.data(), stream.data());
                          EXPECT_LE(packet.data() + packet.size(), stream.data() + stream.size());
                          out.emplace_back(packet.begin(), packet.end());
                        })
                  .ok());
  EXPECT_EQ(out, packets);
  EXPECT_FALSE(reassembler.mid_packet());
  EXPECT_EQ(reassembler.stream_offset(), stream.size());
}

TEST(StreamTest, ManySmallPacketsInOneChunk) {
  Packets packets;
  for (int i = 0; i < 500; ++i) {
    packets.push_back(i % 2 ? EncodeEchoRequest() : DataPacketOf(1 + i % 7, static_cast<uint8_t>(i)));
  }
  const std::vector<uint8_t> stream = Concat(packets);
  PacketReassembler reassembler;
  absl::Status status;
  EXPECT_EQ(FeedInChunks(stream, {}, reassembler, &status), packets);
  EXPECT_TRUE(status.ok());
}

TEST(StreamTest, OneByteAtATime) {
  const Packets packets = SamplePackets();
  const std::vector<uint8_t> stream = Concat(packets);
  PacketReassembler reassembler;
  Packets out;
  for (size_t i = 0; i < stream.size(); ++i) {
    const size_t before = out.size();
    ASSERT_TRUE(reassembler
                    .Feed(absl::MakeConstSpan(stream).subspan(i, 1),
                          [&](absl::Span<const uint8_t> packet) {
                            out.emplace_back(packet.begin(), packet.end());
                          })
                    .ok());
    // Between packets exactly when a packet was just completed.
    EXPECT_EQ(reassembler.mid_packet(), out.size() == before) << i;
  }
  EXPECT_EQ(out, packets);
  EXPECT_FALSE(reassembler.mid_packet());
  EXPECT_EQ(reassembler.pending_bytes(), 0u);
}

TEST(StreamTest, RandomChunkingMatchesTheWhole) {
  const Packets packets = SamplePackets();
  const std::vector<uint8_t> stream = Concat(packets);
  std::mt19937 rng(20240423);  // Fixed seed: reproducible.
  for (int round = 0; round < 200; ++round) {
    // Mix tiny chunks (header splits) with large ones (many packets each).
    const size_t max_chunk = round % 3 == 0 ? 8 : round % 3 == 1 ? 600 : 9000;
    std::uniform_int_distribution<size_t> chunk_size(0, max_chunk);
    std::vector<size_t> sizes;
    for (size_t total = 0; total < stream.size();) {
      sizes.push_back(chunk_size(rng));
      total += sizes.back();
    }
    PacketReassembler reassembler;
    absl::Status status;
    EXPECT_EQ(FeedInChunks(stream, sizes, reassembler, &status), packets) << "round " << round;
    EXPECT_TRUE(status.ok()) << status;
    EXPECT_FALSE(reassembler.mid_packet());
  }
}

TEST(StreamTest, PartialPacketIsCarried) {
  const std::vector<uint8_t> echo = EncodeEchoRequest();
  std::vector<uint8_t> stream = Concat({echo, echo});
  PacketReassembler reassembler;
  absl::Status status;
  Packets out = FeedInChunks(std::vector<uint8_t>(stream.begin(), stream.begin() + 11), {},
                             reassembler, &status);
  EXPECT_EQ(out, Packets{echo});
  EXPECT_TRUE(reassembler.mid_packet());
  EXPECT_EQ(reassembler.pending_bytes(), 3u);
  out = FeedInChunks(std::vector<uint8_t>(stream.begin() + 11, stream.end()), {}, reassembler,
                     &status);
  EXPECT_EQ(out, Packets{echo});
  EXPECT_FALSE(reassembler.mid_packet());
}

TEST(StreamTest, EmptyChunkIsFine) {
  PacketReassembler reassembler;
  int calls = 0;
  EXPECT_TRUE(reassembler.Feed({}, [&](absl::Span<const uint8_t>) { ++calls; }).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(reassembler.mid_packet());
}

TEST(StreamTest, BadVersionFailsForGood) {
  const std::vector<uint8_t> echo = EncodeEchoRequest();
  std::vector<uint8_t> stream = Concat({echo, echo});
  stream[8] = 0x11;  // Second packet's version.
  PacketReassembler reassembler;
  Packets out;
  absl::Status status = reassembler.Feed(stream, [&](absl::Span<const uint8_t> packet) {
    out.emplace_back(packet.begin(), packet.end());
  });
  EXPECT_EQ(status.message(), "SSTP stream offset 8: SSTP version 0x11 != 0x10");
  EXPECT_EQ(out, Packets{echo});  // The packet before the error came out.
  EXPECT_TRUE(reassembler.failed());
  // MS-SSTP 3.1.5.1: the stream cannot be trusted any more.
  int calls = 0;
  EXPECT_EQ(reassembler.Feed(echo, [&](absl::Span<const uint8_t>) { ++calls; }), status);
  EXPECT_EQ(calls, 0);
}

TEST(StreamTest, LengthBelowHeaderInAHeaderSplitAcrossChunks) {
  const std::vector<uint8_t> data = DataPacketOf(10, 1);  // 14 bytes.
  std::vector<uint8_t> stream = Concat({data, HexOrDie("10 00 00 03")});
  PacketReassembler reassembler;
  absl::Status status;
  // Chunks: 16 bytes (the data packet + half the bad header), then the rest.
  Packets out = FeedInChunks(stream, {16, 1, 1}, reassembler, &status);
  EXPECT_EQ(out, Packets{data});
  EXPECT_EQ(status.message(), "SSTP stream offset 14: SSTP packet length 3 < 4");
  EXPECT_TRUE(reassembler.failed());
}

TEST(StreamTest, LengthZeroIsAFramingError) {
  PacketReassembler reassembler;
  absl::Status status;
  FeedInChunks(HexOrDie("10 01 00 00 00 00 00 00"), {}, reassembler, &status);
  EXPECT_EQ(status.message(), "SSTP stream offset 0: SSTP packet length 0 < 4");
}

TEST(StreamTest, DeliversPacketsThatParsePacketRejects) {
  // Framing is all the stream checks; the C bit, attributes and so on are
  // ParsePacket()'s business.
  const std::vector<uint8_t> empty_data = HexOrDie("10 00 00 04");
  PacketReassembler reassembler;
  absl::Status status;
  EXPECT_EQ(FeedInChunks(empty_data, {}, reassembler, &status), Packets{empty_data});
  EXPECT_TRUE(status.ok());
}

}  // namespace
}  // namespace sstp::proto
