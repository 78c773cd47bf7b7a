# Deploy/testbed.d/faults.sh — the faults Deploy/faults injects: WAN cut, loss, link
# down/up, a second link, a reflector. Each undoes itself with the opposite word; what each
# one leaves working (an island's own link) is held by Tests/TestbedTests.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- faults ------------------------------------------------------------------------------

# What a fault on island ISLAND acts on: NAME, DIR, NET, R (the router's namespace) and the
# testbed's topology (plan.sh's PLAN_* variables).
fault_island() { # USAGE NAME ISLAND
    [[ -n ${2-} && -n ${3-} ]] || usage_error "$1"
    check_name "$2"
    need_root
    island_arg "$2" "$3"
    NAME=$2 DIR=$(testbed_dir "$2")
    NET=$(meta "$DIR" net) R=$2-r
    load_topology "$DIR"
}

# The island's ports on the uplink bridge: its gateway hosts' legs and its NAT router's
# outside. Faults drop frames there, in the router's bridge, so the island keeps its own
# link and its hosts keep their carrier.
uplink_ports() { # ISLAND
    local h
    masqueraded "$1" && echo "un$1"
    for ((h = 1; h <= $(meta "$DIR" hosts); h++)); do
        if dual_homed "$1" "$h"; then echo "ui$1h$h"; fi
    done
    return 0
}

# A bridge-family table that drops frames from and to PORTS on their way through the
# router's bridges or into and out of the router itself; DRAW is empty (every frame) or
# an nft numgen condition.
port_rules() { # TABLE DRAW PORT...
    local table=$1 draw=$2 set
    shift 2
    set=$(printf '"%s", ' "$@")
    set="{ ${set%, } }"
    cat <<EOF
table bridge $table {
    chain forward {
        type filter hook forward priority 0; policy accept;
        iifname $set ${draw}drop
        oifname $set ${draw}drop
    }
    chain input {
        type filter hook input priority 0; policy accept;
        iifname $set ${draw}drop
    }
    chain output {
        type filter hook output priority 0; policy accept;
        oifname $set ${draw}drop
    }
}
EOF
}

# A routed island: policy routing in the router, blackhole rules for each direction and
# family before the connected routes, so nothing to or from the island is forwarded, while
# its bridge (its link) keeps working. Legs on the uplink: their frames are dropped there.
cmd_wan() {
    fault_island "wan: NAME ISLAND cut|heal" "$@"
    local island=$2 action=${3-} ports
    local v4 v6 pref=$((1000 + island))
    case $action in cut | heal) ;; *) usage_error "wan: cut or heal" ;; esac
    mapfile -t ports < <(uplink_ports "$island")
    if routed "$island"; then
        v4=$(island_v4 "$NET" "$island") v6=$(island_v6 "$NET" "$island")
        while ip -n "$R" rule del pref "$pref" 2>/dev/null; do :; done
        while ip -n "$R" -6 rule del pref "$pref" 2>/dev/null; do :; done
        if [[ $action == cut ]]; then
            ip -n "$R" rule add pref "$pref" from "$v4" blackhole
            ip -n "$R" rule add pref "$pref" to "$v4" blackhole
            ip -n "$R" -6 rule add pref "$pref" from "$v6" blackhole
            ip -n "$R" -6 rule add pref "$pref" to "$v6" blackhole
        fi
    fi
    if ((${#ports[@]} > 0)); then
        command -v nft >/dev/null 2>&1 || die "wan needs nft (Debian package nftables)"
        ip netns exec "$R" nft delete table bridge "z2zwan$island" 2>/dev/null || true
        if [[ $action == cut ]]; then
            port_rules "z2zwan$island" "" "${ports[@]}" | ip netns exec "$R" nft -f -
        fi
    fi
}

cmd_loss() {
    fault_island "loss: NAME ISLAND PERCENT" "$@"
    local island=$2 percent=${3-} ports
    [[ $percent =~ ^[0-9]+$ ]] && ((percent <= 100)) || usage_error "loss: PERCENT must be 0..100"
    command -v nft >/dev/null 2>&1 || die "loss needs nft (Debian package nftables)"
    local table=z2zloss$island
    ip netns exec "$R" nft delete table inet "$table" 2>/dev/null || true
    ip netns exec "$R" nft delete table bridge "$table" 2>/dev/null || true
    ((percent > 0)) || return 0
    if routed "$island"; then
        loss_rules "$table" "$NET" "$island" "$percent" | ip netns exec "$R" nft -f -
    fi
    mapfile -t ports < <(uplink_ports "$island")
    if ((${#ports[@]} > 0)); then
        port_rules "$table" "$(loss_draw "$percent")" "${ports[@]}" | ip netns exec "$R" nft -f -
    fi
}

# The router's nftables table for loss on a routed island. One draw per rule: a datagram
# from the island to another lossy island passes two. Only traffic that leaves or enters the
# island: the island's own link (multicast mDNS, unicast between its hosts) also passes this
# hook when the kernel hands bridged frames to netfilter (bridge-nf-call-iptables), and must
# stay lossless (the WAN is lossy, not the LAN).
loss_rules() { # TABLE NET ISLAND PERCENT
    local table=$1 draw v4 v6
    v4=$(island_v4 "$2" "$3") v6=$(island_v6 "$2" "$3") draw=$(loss_draw "$4")
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

# The condition that drops PERCENT % of what passes a rule. numgen draws 0..99, and nft
# refuses a comparison with 100: 100 % is no condition, every one.
loss_draw() { # PERCENT
    if (($1 < 100)); then echo "numgen random mod 100 < $1 "; fi
}

host_island() { local island=${1#i}; echo "${island%%h*}"; } # HOST -> its island

cmd_link() {
    host_args "$@"
    need_host_not_router
    case ${3-} in
        down) ip -n "$NS" link set eth0 down ;;
        up)
            ip -n "$NS" link set eth0 up
            # Taking the link down dropped the default routes with it, and the IPv6
            # addresses (keep_addr_on_down is 0); the link's own routes come back with the
            # carrier, a moment after up.
            local dir net
            dir=$(testbed_dir "$NAME") net=$(meta "$dir" net)
            load_topology "$dir"
            local deadline=$((SECONDS + TIMEOUT))
            until configure_lan "$NS" "$net" "$(host_island "$HOST")" "${HOST##*h}"; do
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
    load_topology "$dir"
    ! ip -n "$NS" link show eth1 >/dev/null 2>&1 || die "$HOST already has eth1"
    local addrgen=
    link_local "$island" && addrgen=none
    plug "$NAME" "x$HOST" "br$island" "$NS" eth1 $addrgen
    local v4 v6
    v4=$(attached_v4 "$net" "$island" "$h") v6=$(attached_v6 "$net" "$island" "$h")
    if ipv6_only "$island"; then
        v4=-
    else
        # shellcheck disable=SC2046
        ip -n "$NS" addr add "$v4/$(lan_v4_length "$island")" dev eth1 $(lan_v4_scope "$island")
    fi
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

# Restarts HOST's avahi-daemon with these limits (the rest of its configuration as
# written at `up`): a daemon that refuses objects on purpose, for the tests of refusals.
cmd_avahi_limits() {
    host_args "$@"
    need_host_not_router
    local objects=${3-} clients=${4-}
    [[ $objects =~ ^[0-9]+$ && $clients =~ ^[0-9]+$ ]] || usage_error "avahi-limits: OBJECTS and CLIENTS are numbers"
    Z2Z_TESTBED_AVAHI_OBJECTS=$objects Z2Z_TESTBED_AVAHI_CLIENTS=$clients write_avahi_conf "$HOSTDIR" "$NAME-$HOST"
    stop_avahi "$HOSTDIR" TERM
    rm -f "$HOSTDIR/run/avahi-daemon/pid" "$HOSTDIR/run/avahi-daemon/socket"
    launch_avahi "$NS" "$HOSTDIR"
    wait_avahi_running "$NAME" "$HOST"
}
