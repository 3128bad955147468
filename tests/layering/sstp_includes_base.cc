// Must compile: the positive control for the probes above, proving that a
// probe fails because of the forbidden include and not because of the setup.
#include "base/byte_reader.h"
#include "daemon/sstp/hash_protocol.h"
