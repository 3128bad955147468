// Must NOT compile: ktls/ depends on base/ only.
#include "daemon/sstp/hash_protocol.h"
