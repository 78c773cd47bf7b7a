#ifndef Z2Z_OPENDHT_H
#define Z2Z_OPENDHT_H
// What OpenDHT's C API lacks and z2z needs, over its C++ API (z2z_opendht.cpp).
// Runners and values are passed as the C API's pointers (`dht_runner*`, `dht_value*`),
// untyped here so this header does not redeclare the C API's types.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The runner's routing table: nodes known good and dubious, IPv4 and IPv6 together.
typedef struct z2z_dht_node_counts {
    size_t good;
    size_t dubious;
    /// Searches (gets, puts, listens) the node is running.
    size_t searches;
} z2z_dht_node_counts;

/// The routing table of a running `dht_runner*` (zeros when it does not run).
z2z_dht_node_counts z2z_dht_runner_node_counts(const void* runner);

/// Runs a `dht_runner*` as `dht_runner_run_config` does with z2z's settings (threaded, no
/// peer discovery, no identity), but bound to IPv4 only: one socket fewer per node, which
/// matters for OpenDHT's select() loop (FD_SETSIZE) when one process holds hundreds of
/// nodes. Returns 0, or -1 when OpenDHT threw.
int z2z_dht_runner_run_ipv4(void* runner, uint16_t port, uint32_t network);

/// A node of a runner's routing table, as `exportNodes` gives it: its OpenDHT id and its
/// address (4 or 16 bytes, network order) and port.
typedef struct z2z_dht_node_export {
    uint8_t id[20];
    uint8_t address[16];
    uint8_t address_length;
    uint16_t port;
} z2z_dht_node_export;

/// Writes up to `capacity` good nodes of a running `dht_runner*` to `out` (those OpenDHT
/// would save to rejoin after a restart); returns how many it wrote.
size_t z2z_dht_runner_export_nodes(const void* runner, z2z_dht_node_export* out, size_t capacity);

/// Sets the OpenDHT value id of a `dht_value*` before it is put (0 lets OpenDHT pick one).
void z2z_dht_value_set_id(void* value, uint64_t id);

#ifdef __cplusplus
}
#endif
#endif
