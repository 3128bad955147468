# Include rules the include trees cannot express, because the headers come
# from the same system directory as allowed ones (ARCHITECTURE.md):
# - protocol code (daemon/sstp, daemon/ppp, daemon/config) does no I/O: no
#   liburing, libmnl, socket or OpenSSL SSL headers;
# - only daemon/tls knows OpenSSL's SSL API: no other module includes
#   openssl/ssl.h (ktls/ uses libcrypto's KDFs only).
# Run as: cmake -DSOURCE_DIR=<root> -P check_includes.cmake
set(rules
  "daemon/sstp|liburing|libmnl|sys/socket\\.h|openssl/ssl\\.h|linux/tls\\.h"
  "daemon/ppp|liburing|libmnl|sys/socket\\.h|openssl/ssl\\.h|linux/tls\\.h"
  "daemon/config|liburing|libmnl|sys/socket\\.h|openssl/"
  "ktls|openssl/ssl\\.h|openssl/tls1\\.h|liburing|libmnl"
  "base|openssl/|liburing|libmnl"
  "uring|openssl/ssl\\.h|libmnl"
  "netlink|openssl/ssl\\.h|liburing"
  "daemon/dataplane|openssl/ssl\\.h|libmnl"
  "daemon/session|openssl/ssl\\.h")
set(violations "")
foreach(rule IN LISTS rules)
  string(REPLACE "|" ";" parts "${rule}")
  list(POP_FRONT parts dir)
  string(JOIN "|" forbidden ${parts})
  file(GLOB_RECURSE files "${SOURCE_DIR}/${dir}/*.h" "${SOURCE_DIR}/${dir}/*.cc")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](${forbidden})")
    foreach(line IN LISTS lines)
      string(APPEND violations "${file}: ${line}\n")
    endforeach()
  endforeach()
endforeach()
if(violations)
  message(FATAL_ERROR "forbidden includes:\n${violations}")
endif()
message(STATUS "include rules hold")
