# Deploy/testbed.d/lifecycle.sh — up, down, down-all, list, hosts: building testbeds and tearing them down.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- up ----------------------------------------------------------------------------------

cmd_up() {
    local dir= owner= plan=()
    while (($#)); do
        case $1 in
            --dir) dir=${2-}; shift 2 || usage_error "--dir needs a directory" ;;
            --owner) owner=${2-}; shift 2 || usage_error "--owner needs a pid" ;;
            -h | --help) usage; exit 0 ;;
            *) plan+=("$1"); shift ;;
        esac
    done
    plan_args up "${plan[@]+"${plan[@]}"}"
    local name=$PLAN_NAME islands=$PLAN_ISLANDS hosts=$PLAN_HOSTS net=$PLAN_NET
    if [[ -n $owner ]]; then
        [[ $owner =~ ^[0-9]+$ ]] && alive "$owner" || usage_error "--owner $owner: no such process"
    fi
    need_root
    need_tools
    if [[ -n $PLAN_MASQUERADE ]] && ! command -v nft >/dev/null 2>&1; then
        die "--masquerade needs nft (Debian package nftables)"
    fi

    if [[ -e $STATE_BASE/$name || -L $STATE_BASE/$name || -n $(namespaces_of "$name") ]]; then
        echo "testbed: testbed '$name' exists (Deploy/testbed down $name)" >&2
        exit 3
    fi
    mkdir -p "$STATE_BASE"
    if [[ -n $dir ]]; then
        mkdir -p "$dir"
        dir=$(readlink -f "$dir")
        case $dir/ in /run/*) usage_error "--dir must not be under /run (hosts get their own /run)" ;; esac
        [[ -z $(ls -A "$dir") ]] || usage_error "--dir $dir is not empty"
        ln -s "$dir" "$STATE_BASE/$name" 2>/dev/null || { echo "testbed: testbed '$name' exists" >&2; exit 3; }
    else
        dir=$STATE_BASE/$name
        mkdir "$dir" 2>/dev/null || { echo "testbed: testbed '$name' exists" >&2; exit 3; }
    fi

    # From here on, any failure (or a kill) leaves nothing behind.
    trap 'status=$?; trap - EXIT; if ((status != 0)); then (cmd_down "$name") >/dev/null 2>&1 || true; fi; exit $status' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT

    {
        echo "islands=$islands"
        echo "hosts=$hosts"
        echo "net=$net"
        topology_meta
        echo "owner=$owner"
        echo "dir=$dir"
        echo "created=$(date -Is)"
    } >"$dir/meta"

    if [[ -n $owner ]]; then
        # Watches the owner (a test process) and tears down after it, however it ended.
        (close_inherited_fds
            exec setsid bash -c 'tail --pid="$1" -f /dev/null; exec bash "$2" down "$3"' testbed-watch \
                "$owner" "$SELF" "$name" </dev/null >/dev/null 2>&1) &
        echo $! >"$dir/watcher.pid"
    fi

    local i h host hostdir all=()
    wire_router "$name" "$net" "$islands"
    for i in $PLAN_MASQUERADE; do wire_nat "$name" "$net" "$i"; done
    for ((i = 1; i <= islands; i++)); do
        for ((h = 1; h <= hosts; h++)); do
            wire_host "$name" "$net" "$i" "$h"
            all+=("i${i}h${h}")
        done
    done
    plan_table "$name" "$islands" "$hosts" "$net" >"$dir/hosts"

    for host in "${all[@]}"; do
        hostdir=$dir/$host
        mkdir -p "$hostdir/run" "$hostdir/services"
        write_avahi_conf "$hostdir" "$name-$host"
        start_dbus "$name-$host" "$hostdir"
        launch_avahi "$name-$host" "$hostdir"
    done
    if ((PLAN_ROUTER_AVAHI)); then
        # The router as one box on every island's link (its bridges), host directory "router".
        local bridges
        bridges=$(seq -f 'br%g' 1 "$islands" | paste -sd,)
        hostdir=$dir/router
        mkdir -p "$hostdir/run" "$hostdir/services"
        # Z2Z_TESTBED_ROUTER_REFLECTOR=1: Avahi's reflector on the router (Deploy/bench/router).
        write_avahi_conf "$hostdir" "$name-r" "$bridges" "$([[ ${Z2Z_TESTBED_ROUTER_REFLECTOR:-} == 1 ]] && echo yes || echo no)"
        start_dbus "$name-r" "$hostdir"
        launch_avahi "$name-r" "$hostdir"
        all+=(router)
    fi
    wait_avahi_running "$name" "${all[@]}"

    cat "$dir/hosts"
}

# -- down --------------------------------------------------------------------------------

# Kills every process whose network namespace is one of NETNS... (daemons, spawned and
# exec'd commands, their children), politely first.
kill_namespace_processes() { # NETNS...
    local pids deadline patience
    pids=$(for ns in "$@"; do ip netns pids "$ns" 2>/dev/null || true; done)
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    patience=$((SECONDS + 2)) deadline=$((SECONDS + TIMEOUT))
    while :; do
        sleep 0.05
        pids=$(for ns in "$@"; do ip netns pids "$ns" 2>/dev/null || true; done)
        [[ -n $pids ]] || return 0
        ((SECONDS < deadline)) || die "processes survive SIGKILL in $*: $pids"
        # Whoever ignores SIGTERM for a second or two, or was born since, gets SIGKILL.
        # shellcheck disable=SC2086
        ((SECONDS < patience)) || kill -KILL $pids 2>/dev/null || true
    done
}

cmd_down() {
    local name=${1-} dir wpid nss
    [[ -n $name ]] || usage_error "down: NAME missing"
    check_name "$name"
    need_root
    dir=$(testbed_dir "$name")

    wpid=$(cat "$dir/watcher.pid" 2>/dev/null || true)
    if [[ -n $wpid && $wpid != "$$" ]]; then
        kill -TERM -- "-$wpid" 2>/dev/null || true # its process group: bash and tail
    fi

    mapfile -t nss < <(namespaces_of "$name")
    if ((${#nss[@]} > 0)); then
        kill_namespace_processes "${nss[@]}"
        for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    fi
    [[ -z $(namespaces_of "$name") ]] || die "could not delete namespaces of $name"

    if [[ ${Z2Z_TESTBED_KEEP:-} == 1 && -d $dir ]]; then
        echo "testbed: kept $dir" >&2
    else
        rm -rf -- "$dir"
    fi
    rm -f -- "$STATE_BASE/$name" 2>/dev/null || true
}

recorded_testbeds() {
    local entry
    for entry in "$STATE_BASE"/z2z*; do
        [[ -e $entry || -L $entry ]] && basename "$entry"
    done
    return 0
}

all_testbeds() { { recorded_testbeds; testbeds_with_namespaces; } | sort -u; }

is_stale() { # NAME: owner gone, or namespaces that nobody recorded
    local dir owner
    dir=$(testbed_dir "$1")
    [[ -f $dir/meta ]] || return 0
    owner=$(meta "$dir" owner)
    [[ -n $owner ]] && ! alive "$owner"
}

cmd_down_all() {
    local stale=0 name failed=0
    case ${1-} in --stale) stale=1 ;; "") ;; *) usage_error "down-all: unknown option $1" ;; esac
    need_root
    for name in $(all_testbeds); do
        if ((stale)) && ! is_stale "$name"; then continue; fi
        echo "down $name" >&2
        (cmd_down "$name") || failed=1
    done
    return $failed
}

cmd_list() {
    local name dir owner state
    printf '%-24s %-7s %-5s %-14s %s\n' NAME ISLANDS HOSTS OWNER DIR
    for name in $(all_testbeds); do
        dir=$(testbed_dir "$name")
        if [[ -f $dir/meta ]]; then
            owner=$(meta "$dir" owner)
            if [[ -z $owner ]]; then state=-; elif alive "$owner"; then state=$owner; else state="$owner(gone)"; fi
            printf '%-24s %-7s %-5s %-14s %s\n' "$name" "$(meta "$dir" islands)" "$(meta "$dir" hosts)" "$state" "$dir"
        else
            printf '%-24s %-7s %-5s %-14s %s\n' "$name" ? ? ? "(unrecorded: $(namespaces_of "$name" | tr '\n' ' '))"
        fi
    done
}
