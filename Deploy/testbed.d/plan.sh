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

# -- the address plan --------------------------------------------------------------------
# Island i of plan X is 10.X.i.0/24 and fd00:X:i::/64; the router is .1 / ::1 on every
# island; host h is .(10+h) / ::(10+h) on its eth0, and .(250-h) / ::(250-h) on a second
# link it is attached to.

island_v4() { echo "10.$1.$2.0/24"; }           # NET ISLAND
island_v6() { echo "fd00:$1:$2::/64"; }         # NET ISLAND
router_v4() { echo "10.$1.$2.1"; }              # NET ISLAND
router_v6() { echo "fd00:$1:$2::1"; }           # NET ISLAND
host_v4() { echo "10.$1.$2.$((10 + $3))"; }     # NET ISLAND HOST
host_v6() { echo "fd00:$1:$2::$((10 + $3))"; }  # NET ISLAND HOST
attached_v4() { echo "10.$1.$2.$((250 - $3))"; }    # NET ISLAND HOST
attached_v6() { echo "fd00:$1:$2::$((250 - $3))"; } # NET ISLAND HOST

# The host table up prints: HOST NETNS IPV4 IPV6 AVAHI-HOST-NAME, island by island.
plan_table() { # NAME ISLANDS HOSTS NET
    local name=$1 islands=$2 hosts=$3 net=$4 i h
    for ((i = 1; i <= islands; i++)); do
        for ((h = 1; h <= hosts; h++)); do
            echo "i${i}h${h} $name-i${i}h${h} $(host_v4 "$net" "$i" "$h") $(host_v6 "$net" "$i" "$h") $name-i${i}h${h}"
        done
    done
}

# -- arguments ---------------------------------------------------------------------------

# Parses NAME [--islands N] [--hosts K] [--net X] (what plan takes, and up besides its
# own options) into PLAN_NAME, PLAN_ISLANDS, PLAN_HOSTS, PLAN_NET; a usage error otherwise.
plan_args() { # COMMAND ARGS...
    local command=$1
    shift
    PLAN_NAME= PLAN_ISLANDS=1 PLAN_HOSTS=2 PLAN_NET=
    while (($#)); do
        case $1 in
            --islands) PLAN_ISLANDS=${2-}; shift 2 || usage_error "--islands needs a number" ;;
            --hosts) PLAN_HOSTS=${2-}; shift 2 || usage_error "--hosts needs a number" ;;
            --net) PLAN_NET=${2-}; shift 2 || usage_error "--net needs a number" ;;
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
    ip netns list | awk -v p="$1-" '{ n = $1 } index(n, p) == 1 && substr(n, length(p) + 1) ~ /^(r|i[0-9]+h[0-9]+)$/ { print n }'
}

# Testbed names that have a namespace, recorded or not.
testbeds_with_namespaces() {
    ip netns list | awk '{ print $1 }' | sed -nE 's/^(z2z[a-z0-9]*)-(r|i[0-9]+h[0-9]+)$/\1/p' | sort -u
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
        router | r) ns=$name-r; host= ;;
        i[0-9]*h[0-9]*) [[ $host =~ ^i[1-9][0-9]*h[1-9][0-9]*$ ]] || usage_error "bad host '$host'"; ns=$name-$host ;;
        *) usage_error "bad host '$host': use i<island>h<host> (e.g. i1h2) or router" ;;
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
