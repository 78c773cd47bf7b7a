# Deploy/testbed.d/plan.sh — what a testbed is called and where its addresses are: every
# decision `up` makes before it touches the machine. `Deploy/testbed plan` prints it without
# root, and Tests/TestbedTests hold it to the address plan in --help.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- names -------------------------------------------------------------------------------

check_name() {
    [[ $1 =~ ^z2z[a-z0-9]{0,20}$ ]] ||
        usage_error "testbed name '$1' must be z2z followed by up to 20 lowercase letters or digits"
}

# The address plan number of a testbed without --net: the same for the same name, so a
# testbed keeps its addresses when built again, and spread over 1..254 so that testbeds of
# parallel tests rarely share a plan (they could: namespaces keep them apart anyway).
derived_net() { # NAME
    echo $(($(printf %s "$1" | cksum | cut -d' ' -f1) % 254 + 1))
}

# -- the topology ------------------------------------------------------------------------
# What `up` was asked to build besides islands × hosts, in PLAN_* variables that
# plan_args sets from the command line and load_topology from a testbed's meta file:
#   PLAN_SAME_PREFIX  1: every island's LAN takes island 1's prefixes (--same-prefix)
#   PLAN_UPLINK       1: nothing routes the LANs; gateway hosts have a second leg on the
#                     uplink segment (--uplink)
#   PLAN_GATEWAYS     how many hosts of each island (h1..) are gateway hosts (--gateways)
#   PLAN_MASQUERADE   islands behind a masquerading router of their own, "2 3" (--masquerade)
#   PLAN_LINK_LOCAL   islands with 169.254/16 and fe80 addresses only (--link-local)
#   PLAN_IPV6_ONLY    islands with no IPv4 address on their link, "1 2" (--ipv6-only)
#   PLAN_ROUTER_AVAHI 1: the router runs dbus and avahi-daemon on every island's link
#                     (--router-avahi): one box on many links, for z2zd's router mode
PLAN_SAME_PREFIX=0 PLAN_UPLINK=0 PLAN_GATEWAYS=1 PLAN_MASQUERADE= PLAN_LINK_LOCAL= PLAN_IPV6_ONLY= PLAN_ROUTER_AVAHI=0

load_topology() { # DIR: a built testbed's topology (defaults for testbeds from before it)
    PLAN_SAME_PREFIX=$(meta "$1" same_prefix) PLAN_UPLINK=$(meta "$1" uplink)
    PLAN_GATEWAYS=$(meta "$1" gateways) PLAN_MASQUERADE=$(meta "$1" masquerade)
    PLAN_LINK_LOCAL=$(meta "$1" link_local) PLAN_IPV6_ONLY=$(meta "$1" ipv6_only)
    PLAN_SAME_PREFIX=${PLAN_SAME_PREFIX:-0} PLAN_UPLINK=${PLAN_UPLINK:-0} PLAN_GATEWAYS=${PLAN_GATEWAYS:-1}
    PLAN_ROUTER_AVAHI=$(meta "$1" router_avahi) PLAN_ROUTER_AVAHI=${PLAN_ROUTER_AVAHI:-0}
}

topology_meta() { # the lines load_topology reads back
    echo "same_prefix=$PLAN_SAME_PREFIX"
    echo "uplink=$PLAN_UPLINK"
    echo "gateways=$PLAN_GATEWAYS"
    echo "masquerade=$PLAN_MASQUERADE"
    echo "link_local=$PLAN_LINK_LOCAL"
    echo "ipv6_only=$PLAN_IPV6_ONLY"
    echo "router_avahi=$PLAN_ROUTER_AVAHI"
}

masqueraded() { [[ " $PLAN_MASQUERADE " == *" $1 "* ]]; } # ISLAND
link_local() { [[ " $PLAN_LINK_LOCAL " == *" $1 "* ]]; }  # ISLAND
ipv6_only() { [[ " $PLAN_IPV6_ONLY " == *" $1 "* ]]; }    # ISLAND

# Whether the router has addresses on the island's link and routes it to the other routed
# islands (and to the uplink, if there is one): not when the LANs overlap, nor under
# --uplink, nor behind the island's own NAT router, nor for link-local addresses, which no
# router forwards.
routed() { # ISLAND
    ((!PLAN_UPLINK && !PLAN_SAME_PREFIX)) && ! masqueraded "$1" && ! link_local "$1"
}

# The uplink segment (a link of its own) exists for --uplink and for NAT routers' outsides.
# Under --uplink it is a plain link that nothing routes; otherwise the router is on it too,
# routing between it and the routed islands, and it is the NAT routers' default route.
has_uplink() { ((PLAN_UPLINK)) || [[ -n $PLAN_MASQUERADE ]]; }
router_on_uplink() { ((!PLAN_UPLINK)) && [[ -n $PLAN_MASQUERADE ]]; }

# Gateway hosts (the first PLAN_GATEWAYS of each island) get a leg on the uplink under
# --uplink, except behind a NAT router: that island reaches the uplink only through it.
dual_homed() { # ISLAND HOST
    ((PLAN_UPLINK && $2 <= PLAN_GATEWAYS)) && ! masqueraded "$1"
}

# -- the address plan --------------------------------------------------------------------
# Island i of plan X is 10.X.i.0/24 and fd00:X:i::/64 (with --same-prefix every island is
# 10.X.1.0/24 and fd00:X:1::/64); the router on the island's link (the router, or the
# island's NAT router) is .1 / ::1; host h is .(10+h) / ::(10+h) on its eth0, and
# .(250-h) / ::(250-h) on a second link it is attached to. A link-local island i is
# 169.254.0.0/16 and fe80::/64, host h 169.254.i.(10+h) / fe80::i:(10+h) (169.254.1.(10+h)
# and fe80::1:(10+h) on every such island with --same-prefix). The uplink segment is
# 100.64.0.0/16 and fd64::/64: the router 100.64.0.1 / fd64::1, gateway host h of island i
# 100.64.i.h / fd64::i:h, island i's NAT router 100.64.i.254 / fd64::i:254. An IPv6-only
# island has the IPv6 addresses of this plan and none of the IPv4 ones: on its hosts' eth0,
# the router's leg on its link and its gateway hosts' legs on the uplink ("-" in the table).

# The island's LAN addresses without their host number, in LAN4 and LAN6 (no subshell:
# the host table of 250 islands is made of them).
lan_bases() { # NET ISLAND
    local n=$2
    if ((PLAN_SAME_PREFIX)); then n=1; fi
    if link_local "$2"; then
        LAN4=169.254.$n LAN6=fe80::$n:
    else
        LAN4=10.$1.$n LAN6=fd00:$1:$n::
    fi
}

island_v4() { # NET ISLAND: the island's IPv4 prefix
    lan_bases "$1" "$2"
    if link_local "$2"; then echo 169.254.0.0/16; else echo "$LAN4.0/24"; fi
}
island_v6() { lan_bases "$1" "$2"; if link_local "$2"; then echo fe80::/64; else echo "$LAN6/64"; fi; } # NET ISLAND
router_v4() { lan_bases "$1" "$2"; echo "$LAN4.1"; }                # NET ISLAND
router_v6() { lan_bases "$1" "$2"; echo "${LAN6}1"; }               # NET ISLAND
host_v4() { lan_bases "$1" "$2"; echo "$LAN4.$((10 + $3))"; }       # NET ISLAND HOST
host_v6() { lan_bases "$1" "$2"; echo "$LAN6$((10 + $3))"; }        # NET ISLAND HOST
attached_v4() { lan_bases "$1" "$2"; echo "$LAN4.$((250 - $3))"; }  # NET ISLAND HOST
attached_v6() { lan_bases "$1" "$2"; echo "$LAN6$((250 - $3))"; }   # NET ISLAND HOST
lan_v4_length() { if link_local "$1"; then echo 16; else echo 24; fi; } # ISLAND
lan_v4_scope() { if link_local "$1"; then echo scope link; fi; }          # ISLAND

# The island's default router, if its hosts have one: "V4 V6" (V4 "-" on an IPv6-only
# island), or nothing.
lan_router() { # NET ISLAND
    local v4
    if ipv6_only "$2"; then v4=-; else v4=$(router_v4 "$1" "$2"); fi
    if routed "$2" || masqueraded "$2"; then echo "$v4 $(router_v6 "$1" "$2")"; fi
}

# Addresses on the uplink segment, in UP4 and UP6: host number N of island i (N = 254 is
# its NAT router), island 0 the router.
uplink_addresses() { # ISLAND N
    if (($1 == 0)); then UP4=100.64.0.$2 UP6=fd64::$2; else UP4=100.64.$1.$2 UP6=fd64::$1:$2; fi
}
NAT_ON_UPLINK=254

# The host table up prints: HOST NETNS IPV4 IPV6 AVAHI-HOST-NAME, island by island. With an
# uplink segment, two more columns, UPLINK-IPV4 UPLINK-IPV6 ("-" for a host without a leg
# there), and then one line per NAT router: n<i> NETNS LAN-IPV4 LAN-IPV6 - UPLINK-IPV4
# UPLINK-IPV6.
plan_table() { # NAME ISLANDS HOSTS NET
    local name=$1 islands=$2 hosts=$3 net=$4 i h uplink= v4
    for ((i = 1; i <= islands; i++)); do
        lan_bases "$net" "$i"
        for ((h = 1; h <= hosts; h++)); do
            if ! has_uplink; then
                uplink=
            elif dual_homed "$i" "$h"; then
                uplink_addresses "$i" "$h"
                if ipv6_only "$i"; then UP4=-; fi
                uplink=" $UP4 $UP6"
            else
                uplink=" - -"
            fi
            v4=$LAN4.$((10 + h))
            if ipv6_only "$i"; then v4=-; fi
            echo "i${i}h${h} $name-i${i}h${h} $v4 $LAN6$((10 + h)) $name-i${i}h${h}$uplink"
        done
    done
    for i in $PLAN_MASQUERADE; do
        lan_bases "$net" "$i"
        uplink_addresses "$i" "$NAT_ON_UPLINK"
        echo "n$i $name-n$i $LAN4.1 ${LAN6}1 - $UP4 $UP6"
    done
}

# -- arguments ---------------------------------------------------------------------------

# Parses NAME [--islands N] [--hosts K] [--net X] and the topology options (what plan
# takes, and up besides its own options) into PLAN_NAME, PLAN_ISLANDS, PLAN_HOSTS,
# PLAN_NET and the topology above; a usage error otherwise.
plan_args() { # COMMAND ARGS...
    local command=$1 masquerade=() link_local=() ipv6_only=() gateways= i
    shift
    PLAN_NAME= PLAN_ISLANDS=1 PLAN_HOSTS=2 PLAN_NET=
    PLAN_SAME_PREFIX=0 PLAN_UPLINK=0 PLAN_GATEWAYS=1 PLAN_MASQUERADE= PLAN_LINK_LOCAL= PLAN_IPV6_ONLY= PLAN_ROUTER_AVAHI=0
    while (($#)); do
        case $1 in
            --islands) PLAN_ISLANDS=${2-}; shift 2 || usage_error "--islands needs a number" ;;
            --hosts) PLAN_HOSTS=${2-}; shift 2 || usage_error "--hosts needs a number" ;;
            --net) PLAN_NET=${2-}; shift 2 || usage_error "--net needs a number" ;;
            --same-prefix) PLAN_SAME_PREFIX=1; shift ;;
            --uplink) PLAN_UPLINK=1; shift ;;
            --gateways) gateways=${2-}; shift 2 || usage_error "--gateways needs a number" ;;
            --masquerade) masquerade+=("${2-}"); shift 2 || usage_error "--masquerade needs an island" ;;
            --link-local) link_local+=("${2-}"); shift 2 || usage_error "--link-local needs an island" ;;
            --ipv6-only) ipv6_only+=("${2-}"); shift 2 || usage_error "--ipv6-only needs an island" ;;
            --router-avahi) PLAN_ROUTER_AVAHI=1; shift ;;
            -*) usage_error "$command: unknown option $1" ;;
            *) [[ -z $PLAN_NAME ]] || usage_error "$command: one NAME only"; PLAN_NAME=$1; shift ;;
        esac
    done
    [[ -n $PLAN_NAME ]] || usage_error "$command: NAME missing"
    check_name "$PLAN_NAME"
    [[ $PLAN_ISLANDS =~ ^[1-9][0-9]*$ ]] && ((PLAN_ISLANDS <= 250)) || usage_error "--islands must be 1..250"
    [[ $PLAN_HOSTS =~ ^[1-9][0-9]*$ ]] && ((PLAN_HOSTS <= 240)) || usage_error "--hosts must be 1..240"
    if [[ -z $PLAN_NET ]]; then PLAN_NET=$(derived_net "$PLAN_NAME"); fi
    [[ $PLAN_NET =~ ^[1-9][0-9]*$ ]] && ((PLAN_NET <= 254)) || usage_error "--net must be 1..254"
    if [[ -n $gateways ]]; then
        ((PLAN_UPLINK)) || usage_error "--gateways needs --uplink"
        [[ $gateways =~ ^[1-9][0-9]*$ ]] && ((gateways <= PLAN_HOSTS)) || usage_error "--gateways must be 1..$PLAN_HOSTS (--hosts)"
        PLAN_GATEWAYS=$gateways
    fi
    for i in "${masquerade[@]+"${masquerade[@]}"}" "${link_local[@]+"${link_local[@]}"}" "${ipv6_only[@]+"${ipv6_only[@]}"}"; do
        [[ $i =~ ^[1-9][0-9]*$ ]] && ((i <= PLAN_ISLANDS)) || usage_error "no island '$i' (--islands $PLAN_ISLANDS)"
    done
    # Sorted, each once: the table lists NAT routers island by island.
    PLAN_MASQUERADE=$(printf '%s\n' "${masquerade[@]+"${masquerade[@]}"}" | sort -nu | paste -sd' ')
    PLAN_LINK_LOCAL=$(printf '%s\n' "${link_local[@]+"${link_local[@]}"}" | sort -nu | paste -sd' ')
    PLAN_IPV6_ONLY=$(printf '%s\n' "${ipv6_only[@]+"${ipv6_only[@]}"}" | sort -nu | paste -sd' ')
    for i in $PLAN_MASQUERADE; do
        ! link_local "$i" || usage_error "island $i: --masquerade and --link-local exclude each other (no router forwards link-local addresses)"
        ! ipv6_only "$i" || usage_error "island $i: --masquerade and --ipv6-only exclude each other (the NAT router masquerades IPv4 and IPv6 alike)"
    done
    for i in $PLAN_IPV6_ONLY; do
        ! link_local "$i" || usage_error "island $i: --link-local and --ipv6-only exclude each other"
    done
    if ((PLAN_ROUTER_AVAHI)); then
        ((!PLAN_UPLINK && !PLAN_SAME_PREFIX)) && [[ -z $PLAN_MASQUERADE ]] ||
            usage_error "--router-avahi needs the routed topology (not with --uplink, --same-prefix or --masquerade)"
    fi
}

cmd_plan() {
    case ${1-} in -h | --help) usage; exit 0 ;; esac
    plan_args plan "$@"
    plan_table "$PLAN_NAME" "$PLAN_ISLANDS" "$PLAN_HOSTS" "$PLAN_NET"
}

# -- what exists -------------------------------------------------------------------------

# The testbed's namespaces, as the kernel knows them (not as recorded: down must also
# clean up after an up that died half-way).
namespaces_of() {
    ip netns list | awk -v p="$1-" '{ n = $1 } index(n, p) == 1 && substr(n, length(p) + 1) ~ /^(r|n[0-9]+|i[0-9]+h[0-9]+)$/ { print n }'
}

# Testbed names that have a namespace, recorded or not.
testbeds_with_namespaces() {
    ip netns list | awk '{ print $1 }' | sed -nE 's/^(z2z[a-z0-9]*)-(r|n[0-9]+|i[0-9]+h[0-9]+)$/\1/p' | sort -u
}

testbed_dir() { # NAME -> directory (may not exist)
    if [[ -L $STATE_BASE/$1 ]]; then readlink "$STATE_BASE/$1"; else echo "$STATE_BASE/$1"; fi
}

meta() { # DIR KEY
    sed -n "s/^$2=//p" "$1/meta" 2>/dev/null || true
}

# HOST argument -> "NETNS HOSTDIR"; HOSTDIR is empty for the router.
resolve_host() { # NAME HOST
    local name=$1 host=$2 dir ns
    dir=$(testbed_dir "$name")
    [[ -f $dir/meta ]] || die "no testbed '$name' (Deploy/testbed list shows what exists)"
    case $host in
        # With --router-avahi the router has a host directory with its own /run.
        router | r) ns=$name-r; if [[ -d $dir/router/run ]]; then host=router; else host=; fi ;;
        n[0-9]*) [[ $host =~ ^n[1-9][0-9]*$ ]] || usage_error "bad host '$host'"; ns=$name-$host; host= ;;
        i[0-9]*h[0-9]*) [[ $host =~ ^i[1-9][0-9]*h[1-9][0-9]*$ ]] || usage_error "bad host '$host'"; ns=$name-$host ;;
        *) usage_error "bad host '$host': use i<island>h<host> (e.g. i1h2), router or n<island> (a NAT router)" ;;
    esac
    [[ -e /run/netns/$ns ]] || die "testbed '$name' has no host '$2'"
    echo "$ns ${host:+$dir/$host}"
}

island_arg() { # NAME ISLAND: fails unless the testbed has that island
    local dir
    dir=$(testbed_dir "$1")
    [[ -f $dir/meta ]] || die "no testbed '$1'"
    [[ $2 =~ ^[1-9][0-9]*$ ]] && (($2 <= $(meta "$dir" islands))) || usage_error "no island '$2' in $1"
}
