# shellcheck shell=bash
# hvrun's -monitor: QEMU's monitor (build/mgmt/hvmon, docs/monitor.md) on the
# manager that --control starts, in QEMU's syntax:
#   -monitor stdio                      the monitor on this terminal, its
#                                       prompt among the guest's console lines
#                                       (as QEMU's -serial mon:stdio shares one)
#   -monitor unix:PATH,server,nowait    monitors for clients of the Unix
#                                       socket PATH, one at a time (also
#                                       server=on,wait=off)
# Sourced by bin/hvrun, which calls monitor_parse while reading options and
# monitor_start once the run is going.

MONITOR_KIND='' MONITOR_PATH='' MONITOR_PID=''

# monitor_parse SPEC: check SPEC, set MONITOR_KIND (stdio|unix) and
# MONITOR_PATH, or stop with a usage error.
monitor_parse() {
    local spec=$1 opts
    case $spec in
    stdio) MONITOR_KIND=stdio ;;
    unix:*)
        MONITOR_PATH=${spec#unix:}
        opts=,${MONITOR_PATH#*,}
        MONITOR_PATH=${MONITOR_PATH%%,*}
        [ -n "$MONITOR_PATH" ] || hvkit_usage_error "-monitor '$spec': no socket path after unix:"
        # hvkit's monitor is always the server and never waits for a client
        # before the guest starts: say so when asked for anything else.
        if [[ $opts != *,server,* && $opts != *,server && $opts != *,server=on* ]] ||
            [[ $opts != *,nowait* && $opts != *,wait=off* ]]; then
            hvkit_usage_error "-monitor '$spec': hvrun serves monitors as" \
                "unix:PATH,server,nowait (or server=on,wait=off)"
        fi
        MONITOR_KIND=unix
        ;;
    *) hvkit_usage_error "-monitor '$spec' is not supported (stdio or unix:PATH,server,nowait)" ;;
    esac
}

# monitor_start SOCKET RUN_PID: once the manager's SOCKET exists (while the
# run RUN_PID lasts), start the monitor: in the foreground for stdio (it
# returns when the monitor ends: quit, or the end of the input), in the
# background for unix (monitor_stop ends it).
monitor_start() {
    local sock=$1 pid=$2 exe=${BUILD:-$TOP/build}/mgmt/hvmon
    if [ ! -x "$exe" ]; then
        hvkit_say "-monitor: $exe is not built yet; run make"
        return 1
    fi
    while [ ! -S "$sock" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    if [ "$MONITOR_KIND" = stdio ]; then
        "$exe" "$sock"
    else
        "$exe" --listen "$MONITOR_PATH" "$sock" </dev/null &
        MONITOR_PID=$!
    fi
}

# monitor_stop: end a background monitor (and its socket file).
monitor_stop() {
    [ -n "$MONITOR_PID" ] || return 0
    kill "$MONITOR_PID" 2>/dev/null
    wait "$MONITOR_PID" 2>/dev/null
    rm -f "$MONITOR_PATH"
    MONITOR_PID=''
}
