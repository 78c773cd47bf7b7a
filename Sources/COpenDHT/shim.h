#ifndef Z2Z_COPENDHT_SHIM_H
#define Z2Z_COPENDHT_SHIM_H
// OpenDHT's C API (libopendht-c-dev): the runner, values, get/listen/put callbacks.
#include <opendht/opendht_c.h>
#endif
