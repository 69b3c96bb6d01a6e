# shellcheck shell=bash
# Comparing hvkit's virsh with the real one (sourced by the virsh-*.sh
# scripts after lib.bash).  The oracle is Debian's virsh on libvirt's
# offline test driver, which keeps everything in memory for one run, so each
# comparison is one command line run once on each side.

# real_virsh_missing: why the comparison cannot run here, or nothing.
real_virsh_missing() {
    command -v virsh >/dev/null ||
        echo "the real virsh is not installed (bash mk/deps.sh test: libvirt-clients)"
}

# virsh_same NAME REAL_LINE HV_LINE CUT OUT_FILTER ERR_FILTER
# Run REAL_LINE on the real virsh in $REAL_DIR and HV_LINE on hvkit's
# ($VIRSH) in $HV_DIR; drop the first CUT lines of the real output (what
# its own set-up printed); pass each standard output through OUT_FILTER and
# each error output through ERR_FILTER (shell words, evaluated); then the
# two, with their exit statuses, must be identical.
virsh_same() {
    local name=$1 real_line=$2 hv_line=$3 cut=$4 out_filter=$5 err_filter=$6
    local base=$IT_WORK/$name real hv
    (cd "${REAL_DIR:-.}" && virsh -c test:///default "$real_line") >"$base.real.out" 2>"$base.real.err"
    echo "status $?" >>"$base.real.err"
    (cd "${HV_DIR:-.}" && "$VIRSH" "$hv_line") >"$base.hv.out" 2>"$base.hv.err"
    echo "status $?" >>"$base.hv.err"
    real=$(tail -n +$((cut + 1)) "$base.real.out" | eval "$out_filter"; eval "$err_filter" <"$base.real.err")
    hv=$(eval "$out_filter" <"$base.hv.out"; eval "$err_filter" <"$base.hv.err")
    if [ "$real" = "$hv" ]; then
        pass "virsh: $name"
    else
        fail "virsh: $name" "output differs from the real virsh (- real, + hvkit)"
        diff <(echo "$real") <(echo "$hv") | sed 's/^/    | /' | head -30
    fi
}

# virsh_help_same: `help COMMAND` of every command hvkit's virsh ($VIRSH)
# lists that the real virsh has too, compared with the real page cut down
# to the options hvkit has (lib/virsh-help.pl); one case for all of them.
virsh_help_same() {
    local dir=$IT_WORK/help cmd bad="" n=0
    mkdir -p "$dir"
    for cmd in $("$VIRSH" help | awk '/^    /{print $1}'); do
        virsh help "$cmd" >"$dir/$cmd.real" 2>&1 || continue
        "$VIRSH" help "$cmd" >"$dir/$cmd.hv" 2>&1
        perl "$(dirname "${BASH_SOURCE[0]}")/virsh-help.pl" "$dir/$cmd.real" "$dir/$cmd.hv" \
            >"$dir/$cmd.want"
        n=$((n + 1))
        cmp -s "$dir/$cmd.want" "$dir/$cmd.hv" || bad="$bad $cmd"
    done
    if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
        pass "virsh help COMMAND: $n commands' pages are the real virsh's (NAME, SYNOPSIS, DESCRIPTION, OPTIONS)"
    else
        fail "virsh help COMMAND" "${bad:-no command compared}: differs from the real virsh (- real, + hvkit)"
        for cmd in $bad; do
            diff "$dir/$cmd.want" "$dir/$cmd.hv" | sed "s/^/    $cmd | /" | head -10
        done
    fi
}

# virsh_test_domain KERNEL CMDLINE DISK: the XML of a domain "test" (the
# name of the real test driver's own domain, so command lines are the same
# on both sides) of 32 MiB and one vCPU that boots KERNEL with CMDLINE and
# has the qcow2 image DISK as its virtio disk vda.
virsh_test_domain() {
    cat <<XML
<domain type='kvm'>
  <name>test</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$1</kernel>
    <cmdline>$2</cmdline>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$3'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
}
