// Internal to daemon/tls: the BIO of the user-space record layer (memory
// mode), in place of a pair of BIO_s_mem.
//
// A pair of memory BIOs costs two extra copies of every byte and zero-fills
// the buffers they grow: ciphertext is copied into the read BIO and out of
// the write BIO. This BIO lends OpenSSL the caller's buffers instead:
//   - reads are served from the caller's ciphertext for the duration of one
//     Decrypt() (`input`). OpenSSL reads all it is given before it asks for
//     more (a record cut short waits in its own buffer), so only what it
//     left unread after close_notify or an error is kept (`held`);
//   - writes are appended straight to the caller's output vector (`sink`),
//     which each memory-mode call sets for its duration; bytes written with
//     no call under way (none are expected) wait in `unsent`.
#ifndef SSTP_KTLS_DAEMON_TLS_BUFFER_BIO_H_
#define SSTP_KTLS_DAEMON_TLS_BUFFER_BIO_H_

#include <openssl/bio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace sstp::tls::internal {

struct BufferBioState {
  // --- Reads: `held` (from `held_offset` on), then `input`.
  std::vector<uint8_t> held;
  size_t held_offset = 0;
  absl::Span<const uint8_t> input;

  // --- Writes.
  std::vector<uint8_t>* sink = nullptr;
  std::vector<uint8_t> unsent;

  // Ciphertext given but not yet read by OpenSSL.
  size_t Unread() const { return held.size() - held_offset + input.size(); }

  // Ends a Decrypt(): what OpenSSL left of `input` moves to `held` (the
  // caller's buffer is not ours past the call).
  void KeepUnreadInput();
};

// Sets state->sink to `out` for its lifetime, after appending any `unsent`
// bytes to it.
class SinkScope {
 public:
  SinkScope(BufferBioState& state, std::vector<uint8_t>* out);
  ~SinkScope() { state_.sink = nullptr; }
  SinkScope(const SinkScope&) = delete;
  SinkScope& operator=(const SinkScope&) = delete;

 private:
  BufferBioState& state_;
};

// A new BIO over `state` (borrowed; it must outlive the BIO). nullptr when
// out of memory.
BIO* NewBufferBio(BufferBioState* state);

}  // namespace sstp::tls::internal

#endif  // SSTP_KTLS_DAEMON_TLS_BUFFER_BIO_H_
