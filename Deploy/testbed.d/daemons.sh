# Deploy/testbed.d/daemons.sh — each host's dbus-daemon and avahi-daemon, and running commands inside a host.
# shellcheck shell=bash
# Sourced by Deploy/testbed, which defines die, usage_error, need_root and the settings
# (SELF, STATE_BASE, TIMEOUT).

# -- running things inside a host -----------------------------------------------------

# `ip netns exec` enters the network namespace and a fresh mount namespace (slave to the
# machine's), so binding the host's run directory on /run there is private to this one
# command and its children: dbus clients find the host's bus, avahi its pid file.
in_host() { # NETNS HOSTDIR CMD...
    local ns=$1 hostdir=$2
    shift 2
    if [[ -z $hostdir ]]; then
        exec ip netns exec "$ns" "$@"
    fi
    exec ip netns exec "$ns" sh -c 'd=$1; shift; mount --bind "$d" /run && exec "$@"' testbed-exec "$hostdir/run" "$@"
}

host_sh() { # NETNS SCRIPT: a root shell script inside the namespace, machine's /run
    ip netns exec "$1" sh -ec "$2"
}

# -- daemons -----------------------------------------------------------------------------

# Daemons outlive this script and must not keep open what our caller handed us: a
# caller waiting for EOF on our stdout would wait for the daemon, and Foundation's
# Process learns that its child exited only when a socket it passes down is closed by
# every holder. Call in the subshell that then execs the daemon.
close_inherited_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

write_avahi_conf() { # HOSTDIR HOST-NAME [INTERFACES [REFLECTOR]]
    cat >"$1/avahi.conf" <<EOF
# Written by Deploy/testbed for one host; the machine's avahi-daemon.conf is not read.
[server]
host-name=$2
domain-name=local
use-ipv4=yes
use-ipv6=yes
allow-interfaces=${3:-eth0}
ratelimit-interval-usec=1000000
ratelimit-burst=1000
objects-per-client-max=${Z2Z_TESTBED_AVAHI_OBJECTS:-1024}
clients-max=${Z2Z_TESTBED_AVAHI_CLIENTS:-4096}
cache-entries-max=${Z2Z_TESTBED_AVAHI_CACHE:-4096}
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=${4:-no}
EOF
}

start_dbus() { # NETNS HOSTDIR
    # --fork returns once the socket accepts connections, so avahi can start right after.
    (close_inherited_fds
        exec ip netns exec "$1" sh -c 'mount --bind "$1/run" /run && mkdir -p /run/dbus &&
            exec dbus-daemon --system --fork --print-pid' testbed-dbus "$2" \
            </dev/null 2>>"$2/dbus.log" >"$2/dbus.pid") || die "dbus-daemon failed in $1; see $2/dbus.log"
}

# Runs avahi-daemon in the foreground (so its log goes to a file, not to a syslog that
# may not exist), detached from us. /etc/avahi/services is replaced by the host's own
# empty directory, so service files installed on the machine do not leak into hosts.
launch_avahi() { # NETNS HOSTDIR
    (close_inherited_fds
        exec setsid ip netns exec "$1" sh -c 'mount --bind "$1/run" /run &&
            mount --bind "$1/services" /etc/avahi/services && mkdir -p /run/avahi-daemon &&
            exec avahi-daemon -f "$1/avahi.conf" --no-chroot' testbed-avahi "$2" \
            </dev/null >>"$2/avahi.log" 2>&1) &
    echo $! >"$2/avahi.pid"
}

avahi_state() { # NETNS HOSTDIR -> AvahiServerState number, or nothing
    ip netns exec "$1" sh -c 'mount --bind "$1/run" /run && exec dbus-send --system --print-reply \
        --reply-timeout=1000 --dest=org.freedesktop.Avahi / org.freedesktop.Avahi.Server.GetState' \
        testbed-state "$2" 2>/dev/null | awk '$1 == "int32" { print $2 }' || true
}

# A zombie is not alive: daemons we start are reparented to init, which may take its
# time to reap them.
alive() {
    local stat
    [[ -n $1 ]] && stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != [ZX] ]]
}

# Waits until every listed host's avahi-daemon has registered its host name
# (AVAHI_SERVER_RUNNING = 2), or fails naming the host and showing its log.
wait_avahi_running() { # NAME HOST...
    local name=$1 dir deadline pending=() still ns hostdir
    shift
    dir=$(testbed_dir "$name")
    pending=("$@")
    deadline=$((SECONDS + TIMEOUT))
    while ((${#pending[@]} > 0)); do
        still=()
        for host in "${pending[@]}"; do
            ns=$name-$host hostdir=$dir/$host
            [[ $host != router ]] || ns=$name-r # --router-avahi
            if ! alive "$(cat "$hostdir/avahi.pid" 2>/dev/null)"; then
                tail -n 20 "$hostdir/avahi.log" >&2 || true
                die "avahi-daemon of $host exited (log above, $hostdir/avahi.log)"
            fi
            [[ $(avahi_state "$ns" "$hostdir") == 2 ]] || still+=("$host")
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} == 0)) && break
        ((SECONDS < deadline)) || die "avahi-daemon not running after ${TIMEOUT}s on: ${pending[*]}"
        sleep 0.05
    done
}

stop_avahi() { # HOSTDIR SIGNAL
    local pid deadline
    pid=$(cat "$1/avahi.pid" 2>/dev/null || true)
    alive "$pid" || return 0
    kill "-$2" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + TIMEOUT))
    while alive "$pid"; do
        ((SECONDS < deadline)) || kill -KILL "$pid" 2>/dev/null || true
        ((SECONDS < deadline + 5)) || die "avahi-daemon $pid does not die"
        sleep 0.02
    done
}
