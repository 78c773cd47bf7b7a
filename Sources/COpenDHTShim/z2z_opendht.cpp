// The two things z2z needs that OpenDHT's C API does not offer. The C API's `dht_runner*`
// is a `dht::DhtRunner*` and its `dht_value*` a `std::shared_ptr<dht::Value>*`
// (opendht/c/opendht.cpp); this file relies on that and on nothing else.
#include "z2z_opendht.h"
#include <opendht/dhtrunner.h>
#include <opendht/value.h>
#include <memory>

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
