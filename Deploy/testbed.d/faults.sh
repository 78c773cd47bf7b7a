# Deploy/testbed.d/faults.sh — the faults Deploy/faults injects: WAN cut, loss, link
# down/up, a second link, a reflector. Each undoes itself with the opposite word; what each
# one leaves working (an island's own link) is held by Tests/TestbedTests.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- faults ------------------------------------------------------------------------------

# Policy routing in the router: blackhole rules for each direction and family come before
# the connected routes, so nothing to or from the island is forwarded, while its bridge
# (its link) keeps working.
cmd_wan() {
    local name=${1-} island=${2-} action=${3-} dir net r
    [[ -n $name && -n $island ]] || usage_error "wan: NAME ISLAND cut|heal"
    check_name "$name"
    need_root
    island_arg "$name" "$island"
    dir=$(testbed_dir "$name") net=$(meta "$dir" net) r=$name-r
    local v4 v6 pref=$((1000 + island))
    v4=$(island_v4 "$net" "$island") v6=$(island_v6 "$net" "$island")
    while ip -n "$r" rule del pref "$pref" 2>/dev/null; do :; done
    while ip -n "$r" -6 rule del pref "$pref" 2>/dev/null; do :; done
    case $action in
        cut)
            ip -n "$r" rule add pref "$pref" from "$v4" blackhole
            ip -n "$r" rule add pref "$pref" to "$v4" blackhole
            ip -n "$r" -6 rule add pref "$pref" from "$v6" blackhole
            ip -n "$r" -6 rule add pref "$pref" to "$v6" blackhole
            ;;
        heal) ;;
        *) usage_error "wan: cut or heal" ;;
    esac
}

cmd_loss() {
    local name=${1-} island=${2-} percent=${3-} dir net r
    [[ -n $name && -n $island && -n $percent ]] || usage_error "loss: NAME ISLAND PERCENT"
    check_name "$name"
    need_root
    island_arg "$name" "$island"
    [[ $percent =~ ^[0-9]+$ ]] && ((percent <= 100)) || usage_error "loss: PERCENT must be 0..100"
    command -v nft >/dev/null 2>&1 || die "loss needs nft (Debian package nftables)"
    dir=$(testbed_dir "$name") net=$(meta "$dir" net) r=$name-r
    local table=z2zloss$island
    ip netns exec "$r" nft delete table inet "$table" 2>/dev/null || true
    ((percent > 0)) || return 0
    loss_rules "$table" "$net" "$island" "$percent" | ip netns exec "$r" nft -f -
}

# The router's nftables table for loss on one island. One draw per rule: a datagram from
# the island to another lossy island passes two. Only traffic that leaves or enters the
# island: the island's own link (multicast mDNS, unicast between its hosts) also passes this
# hook when the kernel hands bridged frames to netfilter (bridge-nf-call-iptables), and must
# stay lossless (the WAN is lossy, not the LAN).
loss_rules() { # TABLE NET ISLAND PERCENT
    local table=$1 draw v4 v6
    v4=$(island_v4 "$2" "$3") v6=$(island_v6 "$2" "$3")
    # numgen draws 0..99, and nft refuses a comparison with 100: 100 % drops every one.
    if (($4 < 100)); then draw="numgen random mod 100 < $4 "; else draw=; fi
    cat <<EOF
table inet $table {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip saddr $v4 ip daddr != { $v4, 224.0.0.0/4, 255.255.255.255 } ${draw}drop
        ip daddr $v4 ip saddr != $v4 ${draw}drop
        ip6 saddr $v6 ip6 daddr != { $v6, fe80::/10, ff00::/8 } ${draw}drop
        ip6 daddr $v6 ip6 saddr != { $v6, fe80::/10 } ${draw}drop
    }
}
EOF
}

cmd_link() {
    host_args "$@"
    need_host_not_router
    case ${3-} in
        down) ip -n "$NS" link set eth0 down ;;
        up)
            ip -n "$NS" link set eth0 up
            # Taking the link down dropped the default routes with it.
            local dir net island
            dir=$(testbed_dir "$NAME") net=$(meta "$dir" net) island=${HOST#i}
            island=${island%%h*}
            # IPv6 addresses go with the link (keep_addr_on_down is 0); the link's own
            # routes come back with the carrier, a moment after up.
            local h=${HOST##*h}
            ip -n "$NS" addr replace "$(host_v4 "$net" "$island" "$h")/24" dev eth0
            ip -n "$NS" addr replace "$(host_v6 "$net" "$island" "$h")/64" dev eth0 nodad
            local deadline=$((SECONDS + TIMEOUT))
            until ip -n "$NS" route replace default via "$(router_v4 "$net" "$island")" 2>/dev/null &&
                ip -n "$NS" -6 route replace default via "$(router_v6 "$net" "$island")" 2>/dev/null; do
                ((SECONDS < deadline)) || die "$HOST: no default route after link up"
                sleep 0.05
            done
            ;;
        *) usage_error "link: down or up" ;;
    esac
}

cmd_attach() {
    host_args "$@"
    need_host_not_router
    local island=${3-} dir net h
    island_arg "$NAME" "$island"
    dir=$(testbed_dir "$NAME") net=$(meta "$dir" net) h=${HOST##*h}
    ! ip -n "$NS" link show eth1 >/dev/null 2>&1 || die "$HOST already has eth1"
    ip -n "$NAME-r" link add "x$HOST" type veth peer name eth1 netns "$NS"
    ip -n "$NAME-r" link set "x$HOST" master "br$island" up
    ip -n "$NS" link set eth1 up
    local v4 v6
    v4=$(attached_v4 "$net" "$island" "$h") v6=$(attached_v6 "$net" "$island" "$h")
    ip -n "$NS" addr add "$v4/24" dev eth1
    ip -n "$NS" addr add "$v6/64" dev eth1 nodad
    echo "$HOST eth1 $v4 $v6"
}

cmd_reflector() {
    host_args "$@"
    need_host_not_router
    local interfaces
    interfaces=$(ip -n "$NS" -o link show | awk -F': ' '$2 ~ /^eth/ { sub(/@.*/, "", $2); print $2 }' | paste -sd,)
    case ${3-} in
        on) write_avahi_conf "$HOSTDIR" "$NAME-$HOST" "$interfaces" yes ;;
        off) write_avahi_conf "$HOSTDIR" "$NAME-$HOST" ;;
        *) usage_error "reflector: on or off" ;;
    esac
    stop_avahi "$HOSTDIR" TERM
    rm -f "$HOSTDIR/run/avahi-daemon/pid" "$HOSTDIR/run/avahi-daemon/socket"
    launch_avahi "$NS" "$HOSTDIR"
    wait_avahi_running "$NAME" "$HOST"
}
