// Must NOT compile: daemon/sstp does not depend on daemon/ppp
// (ARCHITECTURE.md: the HLAK reaches the SSTP code as bytes from session/).
#include "daemon/ppp/frame.h"
