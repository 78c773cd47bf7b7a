# Deploy/testbed.d/hosts.sh — commands on one host: exec, spawn, its avahi-daemon and dbus-daemon, its log.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- commands on one host ----------------------------------------------------------------

host_args() { # consumes NAME HOST and an optional --; sets NAME, NS, HOSTDIR, ARGS
    NAME=${1-} HOST=${2-}
    [[ -n $NAME && -n $HOST ]] || usage_error "NAME and HOST needed"
    check_name "$NAME"
    local resolved
    resolved=$(resolve_host "$NAME" "$HOST") || exit
    read -r NS HOSTDIR <<<"$resolved"
}

cmd_exec() {
    host_args "$@"
    shift 2
    [[ ${1-} == -- ]] && shift
    (($#)) || usage_error "exec: no command"
    in_host "$NS" "$HOSTDIR" "$@"
}

cmd_spawn() {
    local log=
    host_args "$@"
    shift 2
    if [[ ${1-} == --log ]]; then log=${2-}; shift 2 || usage_error "--log needs a file"; fi
    [[ ${1-} == -- ]] && shift
    (($#)) || usage_error "spawn: no command"
    if [[ -z $log ]]; then
        local base=${HOSTDIR:-$(testbed_dir "$NAME")/router}
        mkdir -p "$base"
        log=$base/spawn-$(date +%s%N).log
    fi
    (close_inherited_fds
        exec setsid bash "$SELF" exec "$NAME" "$HOST" -- "$@" </dev/null >"$log" 2>&1) &
    echo $!
}

need_host_not_router() {
    [[ -n $HOSTDIR ]] || usage_error "routers run no avahi-daemon"
}

cmd_kill_avahi() {
    local signal=TERM
    host_args "$@"
    shift 2
    case ${1-} in --hard) signal=KILL ;; "") ;; *) usage_error "kill-avahi: unknown option $1" ;; esac
    need_host_not_router
    stop_avahi "$HOSTDIR" "$signal"
}

cmd_start_avahi() {
    host_args "$@"
    need_host_not_router
    alive "$(cat "$HOSTDIR/avahi.pid" 2>/dev/null)" && die "avahi-daemon of $HOST is running"
    # After a hard kill the pid file and socket are stale; avahi-daemon would refuse to
    # start over a pid file whose pid happens to be alive again.
    rm -f "$HOSTDIR/run/avahi-daemon/pid" "$HOSTDIR/run/avahi-daemon/socket"
    launch_avahi "$NS" "$HOSTDIR"
    wait_avahi_running "$NAME" "$HOST"
}

cmd_restart_avahi() {
    (cmd_kill_avahi "$@")
    cmd_start_avahi "$1" "$2"
}

cmd_restart_dbus() {
    host_args "$@"
    need_host_not_router
    local pid deadline
    pid=$(cat "$HOSTDIR/dbus.pid" 2>/dev/null || true)
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + TIMEOUT))
        while alive "$pid"; do
            ((SECONDS < deadline)) || die "dbus-daemon $pid does not stop"
            sleep 0.02
        done
    fi
    rm -f "$HOSTDIR/run/dbus/system_bus_socket" "$HOSTDIR/run/dbus/pid"
    start_dbus "$NS" "$HOSTDIR"
    (cmd_kill_avahi "$NAME" "$HOST")
    cmd_start_avahi "$NAME" "$HOST"
}

cmd_hosts() {
    local name=${1-} dir
    [[ -n $name ]] || usage_error "hosts: NAME missing"
    check_name "$name"
    dir=$(testbed_dir "$name")
    [[ -f $dir/hosts ]] || die "no testbed '$name'"
    cat "$dir/hosts"
}

cmd_logs() {
    host_args "$@"
    need_host_not_router
    cat "$HOSTDIR/avahi.log"
}
