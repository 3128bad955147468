// Must NOT compile: base/ depends on Abseil only.
#include "daemon/config/profile.h"
