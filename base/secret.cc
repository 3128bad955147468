#include "base/secret.h"

#include <string.h>

namespace sstp {

void WipeBytes(void* data, size_t size) {
  if (data != nullptr && size > 0) explicit_bzero(data, size);
}

}  // namespace sstp
