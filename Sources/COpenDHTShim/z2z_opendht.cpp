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

extern "C" void z2z_dht_value_set_id(void* v, uint64_t id) {
    auto value = static_cast<std::shared_ptr<dht::Value>*>(v);
    if (value != nullptr && *value) (*value)->id = id;
}
