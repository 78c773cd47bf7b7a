# Shared by Deploy/run, Deploy/test and .ci/run: install what is missing, build once.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages z2z needs to build, run and test, one per line in Deploy/packages.txt.
install_packages() {
    local wanted missing=()
    mapfile -t wanted < <(grep -v '^\s*#' "$REPO/Deploy/packages.txt" | awk 'NF {print $1}')
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "==> installing Debian packages: ${missing[*]}"
    if [[ $(id -u) != 0 ]]; then
        echo "error: packages missing and not root; run with sudo, or: apt-get install ${missing[*]}" >&2
        return 1
    fi
    if [[ ${Z2Z_APT_UPDATED:-0} != 1 ]]; then
        apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [[ -x $candidate/swift ]] && PATH=$candidate:$PATH
        done
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "error: Swift 6.1 or newer is needed (https://www.swift.org/install/linux/); 'swift' is not on PATH" >&2
        return 1
    }
}

# The system bus and avahi-daemon of this machine (CI machines and containers start with neither).
# A machine may carry a socket or pid file from a bus that no longer runs, so liveness is asked of
# the daemons themselves, and stale files are cleared before a start.
system_bus_answers() {
    timeout 5 dbus-send --system --print-reply --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus org.freedesktop.DBus.GetId >/dev/null 2>&1
}

start_system_daemons() {
    if ! system_bus_answers; then
        echo "==> starting dbus-daemon"
        mkdir -p /run/dbus
        rm -f /run/dbus/system_bus_socket /run/dbus/pid
        dbus-daemon --system --fork
        for _ in $(seq 1 50); do system_bus_answers && break; sleep 0.1; done
        system_bus_answers || { echo "error: dbus-daemon started but the system bus does not answer" >&2; return 1; }
    fi
    if ! avahi-daemon --check 2>/dev/null; then
        echo "==> starting avahi-daemon"
        rm -f /run/avahi-daemon/pid
        local log
        log=$(mktemp)
        if ! avahi-daemon --daemonize --no-chroot 2>"$log"; then
            echo "error: avahi-daemon did not start:" >&2
            cat "$log" >&2
            rm -f "$log"
            return 1
        fi
        rm -f "$log"
        for _ in $(seq 1 50); do avahi-daemon --check 2>/dev/null && break; sleep 0.1; done
        avahi-daemon --check 2>/dev/null || { echo "error: avahi-daemon started but is not running" >&2; return 1; }
    fi
}
