. "$(dirname "$0")/../../grade-lib.bash"
row=$(xl_lab vcpu-list app 2>/dev/null | awk '$1 == "app" && $3 == 0')
check "domain 'app' has a vCPU 0" test -n "$row"
check "xl vcpu-list shows its hard affinity as CPU 0" sh -c "echo '$row' | grep -q ' 0 / all\$'"
# The machine's processes are those of hvrun's process group.
pid=$(sed -n 's/^pid=//p' "$HVKIT_STATE_DIR/running/app" 2>/dev/null)
cpus=$(for p in $(ps -o pid= -g "${pid:-0}" 2>/dev/null); do
    sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$p/status" 2>/dev/null
done | sort -u)
check "the domain's machine may run on CPU 0 only" test "$cpus" = 0
finish
