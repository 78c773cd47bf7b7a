// The things z2z needs that OpenDHT's C API does not offer. The C API's `dht_runner*`
// is a `dht::DhtRunner*` and its `dht_value*` a `std::shared_ptr<dht::Value>*`
// (opendht/c/opendht.cpp); this file relies on that and on nothing else.
#include "z2z_opendht.h"
#include <opendht/dhtrunner.h>
#include <opendht/value.h>
#include <memory>
#include <cstring>
#include <netinet/in.h>
#include <arpa/inet.h>

extern "C" z2z_dht_node_counts z2z_dht_runner_node_counts(const void* r) {
    z2z_dht_node_counts counts{0, 0, 0};
    auto runner = static_cast<const dht::DhtRunner*>(r);
    if (runner == nullptr || !runner->isRunning()) return counts;
    for (auto family : {AF_INET, AF_INET6}) {
        auto stats = runner->getNodesStats(static_cast<sa_family_t>(family));
        counts.good += stats.good_nodes;
        counts.dubious += stats.dubious_nodes;
        counts.searches += stats.searches;
    }
    return counts;
}

extern "C" int z2z_dht_runner_run_ipv4(void* r, uint16_t port, uint32_t network) {
    auto runner = static_cast<dht::DhtRunner*>(r);
    if (runner == nullptr) return -1;
    try {
        dht::DhtRunner::Config config;
        config.dht_config.node_config.network = network;
        config.dht_config.node_config.maintain_storage = false;
        config.threaded = true;
        config.peer_discovery = false;
        config.peer_publish = false;
        config.bind4.setFamily(AF_INET);
        config.bind4.setPort(port);
        runner->run(config, dht::DhtRunner::Context{});
    } catch (...) {
        return -1;
    }
    return 0;
}

extern "C" void z2z_dht_value_set_id(void* v, uint64_t id) {
    auto value = static_cast<std::shared_ptr<dht::Value>*>(v);
    if (value != nullptr && *value) (*value)->id = id;
}

extern "C" size_t z2z_dht_runner_export_nodes(const void* r, z2z_dht_node_export* out, size_t capacity) {
    auto runner = static_cast<const dht::DhtRunner*>(r);
    if (runner == nullptr || out == nullptr || !runner->isRunning()) return 0;
    size_t count = 0;
    try {
        for (const auto& node : runner->exportNodes()) {
            if (count == capacity) break;
            z2z_dht_node_export& e = out[count];
            std::memcpy(e.id, node.id.data(), sizeof e.id);
            if (node.ss.ss_family == AF_INET && node.sslen >= sizeof(sockaddr_in)) {
                auto in = reinterpret_cast<const sockaddr_in*>(&node.ss);
                std::memcpy(e.address, &in->sin_addr, 4);
                e.address_length = 4;
                e.port = ntohs(in->sin_port);
            } else if (node.ss.ss_family == AF_INET6 && node.sslen >= sizeof(sockaddr_in6)) {
                auto in6 = reinterpret_cast<const sockaddr_in6*>(&node.ss);
                std::memcpy(e.address, &in6->sin6_addr, 16);
                e.address_length = 16;
                e.port = ntohs(in6->sin6_port);
            } else {
                continue;
            }
            count++;
        }
    } catch (...) {
        return count;
    }
    return count;
}
