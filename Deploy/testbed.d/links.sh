# Deploy/testbed.d/links.sh — the wiring up builds from the plan: the router's links, each
# host's eth0 (and its leg on the uplink), NAT routers. What goes where is plan.sh's; this
# only carries it out.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# Namespaces get DAD off before any interface exists in them: an address that is still
# "tentative" cannot be used, and mDNS over IPv6 needs the link-local.
new_namespace() { # NETNS [SCRIPT]: a namespace, lo up, and SCRIPT run in it
    ip netns add "$1"
    host_sh "$1" "echo 0 >/proc/sys/net/ipv6/conf/all/accept_dad
        echo 0 >/proc/sys/net/ipv6/conf/default/accept_dad
        ip link set lo up
        ${2-}"
}

# What makes a namespace a router.
FORWARDING='echo 1 >/proc/sys/net/ipv4/ip_forward
    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding'

# The router: one bridge per island (br<i>), with the router's addresses on the routed
# ones, and the uplink segment (bru) when there is one.
wire_router() { # NAME NET ISLANDS
    local r=$1-r net=$2 islands=$3 i
    new_namespace "$r" "$FORWARDING"
    for ((i = 1; i <= islands; i++)); do
        add_bridge "$r" "br$i"
        if routed "$i"; then
            ipv6_only "$i" || ip -n "$r" addr add "$(router_v4 "$net" "$i")/24" dev "br$i"
            ip -n "$r" addr add "$(router_v6 "$net" "$i")/64" dev "br$i" nodad
        fi
    done
    if has_uplink; then
        add_bridge "$r" bru
        if router_on_uplink; then
            uplink_addresses 0 1
            ip -n "$r" addr add "$UP4/16" dev bru
            ip -n "$r" addr add "$UP6/64" dev bru nodad
        fi
    fi
}

add_bridge() { # NETNS BRIDGE
    # Snooping off: with no MLD querier on the link, a snooping bridge may hold back
    # IPv6 mDNS. STP off and no forward delay: ports forward at once.
    ip -n "$1" link add "$2" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
    ip -n "$1" link set "$2" up
}

# A veth from a port on one of the router's bridges to interface IFNAME in NETNS, up.
plug() { # NAME PORT BRIDGE NETNS IFNAME [ADDRGENMODE]
    ip -n "$1-r" link add "$2" type veth peer name "$5" netns "$4"
    ip -n "$1-r" link set "$2" master "$3" up
    # Before the link comes up, or the kernel has made its fe80 address already.
    [[ -z ${6-} ]] || ip -n "$4" link set "$5" addrgenmode "$6"
    ip -n "$4" link set "$5" up
}

# Host h of island i: eth0 on the island's link, and a leg on the uplink for gateway hosts.
wire_host() { # NAME NET ISLAND HOST
    local name=$1 net=$2 i=$3 h=$4 host=i$3h$4 ns=$1-i$3h$4 addrgen=
    new_namespace "$ns"
    # A link-local island's hosts get the fe80 address of the plan, not one from their MAC.
    link_local "$i" && addrgen=none
    plug "$name" "v$host" "br$i" "$ns" eth0 $addrgen
    configure_lan "$ns" "$net" "$i" "$h" || die "$host: no default route"
    if dual_homed "$i" "$h"; then
        plug "$name" "u$host" bru "$ns" uplink
        uplink_addresses "$i" "$h"
        ipv6_only "$i" || ip -n "$ns" addr add "$UP4/16" dev uplink
        ip -n "$ns" addr add "$UP6/64" dev uplink nodad
    fi
}

# A host's addresses on eth0 and its default routes (none when nothing routes the island).
# Also after `link up`: IPv6 addresses go with the link, routes wait for its carrier (the
# route fails until then, and the caller tries again).
configure_lan() { # NETNS NET ISLAND HOST
    local ns=$1 net=$2 i=$3 h=$4 router
    if ! ipv6_only "$i"; then
        # shellcheck disable=SC2046 # link scope for 169.254/16, as avahi-autoipd gives it
        ip -n "$ns" addr replace "$(host_v4 "$net" "$i" "$h")/$(lan_v4_length "$i")" dev eth0 $(lan_v4_scope "$i")
    fi
    ip -n "$ns" addr replace "$(host_v6 "$net" "$i" "$h")/64" dev eth0 nodad
    router=$(lan_router "$net" "$i")
    [[ -n $router ]] || return 0
    { [[ ${router% *} == - ]] || ip -n "$ns" route replace default via "${router% *}" 2>/dev/null; } &&
        ip -n "$ns" -6 route replace default via "${router#* }" 2>/dev/null
}

# Island i's NAT router (namespace NAME-n<i>): "lan" on the island's link, "wan" on the
# uplink, masquerading what leaves through wan and forwarding nothing that starts there.
wire_nat() { # NAME NET ISLAND
    local name=$1 net=$2 i=$3 ns=$1-n$3
    new_namespace "$ns" "$FORWARDING"
    plug "$name" "vn$i" "br$i" "$ns" lan
    plug "$name" "un$i" bru "$ns" wan
    ip -n "$ns" addr add "$(router_v4 "$net" "$i")/24" dev lan
    ip -n "$ns" addr add "$(router_v6 "$net" "$i")/64" dev lan nodad
    uplink_addresses "$i" "$NAT_ON_UPLINK"
    ip -n "$ns" addr add "$UP4/16" dev wan
    ip -n "$ns" addr add "$UP6/64" dev wan nodad
    if router_on_uplink; then
        uplink_addresses 0 1
        ip -n "$ns" route add default via "$UP4"
        ip -n "$ns" -6 route add default via "$UP6"
    fi
    nat_rules | ip netns exec "$ns" nft -f - || die "nft refused the NAT rules of n$i"
}

# A home router's NAT, both families: connections from the LAN leave with the router's
# uplink address; nothing from the uplink is forwarded unless it answers one of those (no
# port forward), so no one outside can open a connection to a host inside.
nat_rules() {
    cat <<EOF
table inet z2znat {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan" masquerade
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "lan" oifname "wan" accept
    }
}
EOF
}
