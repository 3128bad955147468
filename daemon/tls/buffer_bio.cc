#include "daemon/tls/buffer_bio.h"

#include <algorithm>
#include <cstring>

#include "daemon/tls/openssl_util.h"

namespace sstp::tls::internal {
namespace {

BufferBioState* StateOf(BIO* bio) { return static_cast<BufferBioState*>(BIO_get_data(bio)); }

int BufferBioWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  BIO_clear_retry_flags(bio);
  BufferBioState* state = StateOf(bio);
  std::vector<uint8_t>& to = state->sink != nullptr ? *state->sink : state->unsent;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  to.insert(to.end(), bytes, bytes + size);
  *written = size;
  return 1;
}

int BufferBioRead(BIO* bio, char* data, size_t size, size_t* read) {
  BIO_clear_retry_flags(bio);
  BufferBioState* state = StateOf(bio);
  auto* out = reinterpret_cast<uint8_t*>(data);
  size_t n = 0;
  if (state->held_offset < state->held.size()) {
    n = std::min(size, state->held.size() - state->held_offset);
    std::memcpy(out, state->held.data() + state->held_offset, n);
    state->held_offset += n;
    if (state->held_offset == state->held.size()) {
      state->held.clear();
      state->held_offset = 0;
    }
  }
  const size_t from_input = std::min(size - n, state->input.size());
  if (from_input > 0) {
    std::memcpy(out + n, state->input.data(), from_input);
    state->input.remove_prefix(from_input);
    n += from_input;
  }
  *read = n;
  if (n == 0 && size > 0) {
    BIO_set_retry_read(bio);  // "Wait for more", not end of stream.
    return 0;
  }
  return 1;
}

long BufferBioCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // Writes are in the sink already.
    case BIO_CTRL_PENDING:
      return static_cast<long>(StateOf(bio)->Unread());
    case BIO_CTRL_WPENDING:
      return static_cast<long>(StateOf(bio)->unsent.size());
    default:
      return 0;  // kTLS queries and the rest: "no".
  }
}

const BIO_METHOD* BufferBioMethod() {
  static BIO_METHOD* method = MakeStateBioMethod(
      {"sstp-ktls buffers", BufferBioWrite, BufferBioRead, BufferBioCtrl});
  return method;
}

}  // namespace

void BufferBioState::KeepUnreadInput() {
  if (input.empty()) return;
  if (held_offset > 0) {
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(held_offset));
    held_offset = 0;
  }
  held.insert(held.end(), input.begin(), input.end());
  input = {};
}

SinkScope::SinkScope(BufferBioState& state, std::vector<uint8_t>* out) : state_(state) {
  if (!state.unsent.empty()) {
    out->insert(out->end(), state.unsent.begin(), state.unsent.end());
    state.unsent.clear();
  }
  state.sink = out;
}

BIO* NewBufferBio(BufferBioState* state) {
  return NewStateBio(BufferBioMethod(), state);
}

}  // namespace sstp::tls::internal
