# shellcheck shell=bash
# shellcheck disable=SC2034  # OUTERDISK_* are read by the sourcing scripts
# Files the outer machine shows hv as ATA disks: how bin/hvrun gives hv its
# way to an image file on the host (hv/disk/diskio.h has hv's side).
# Sourced, never run.
#
# Why the file itself is the disk.  hv runs inside an emulator and sees the
# host's files only as that emulator's disks.  Handing the emulator the image
# file itself (format=raw, whatever the image's own format) means every write
# lands in the real file and the disk's FLUSH CACHE makes it durable there:
# nothing is copied in or back, and a run that dies after a flush loses
# nothing.  A qcow2 file grows as clusters are allocated, but a disk's size
# is fixed when the emulator starts, so before the run the file is extended,
# sparsely, to a limit it cannot outgrow (its length + its virtual size +
# 1/64 of it for tables + 8 MiB), rounded up to a whole number of 16-head,
# 63-sector cylinders (Bochs derives a flat disk's geometry from its size),
# and its last sector gets a trailer: magic "HVKITDSK", the file's number
# and real length, the limit, flags, its name, an FNV-1a checksum.  hv keeps
# the length in the trailer current; after the run the file is cut back to
# it.  A read-only file is not touched at all: a sparse copy of it gets the
# trailer.  A file left extended by a run that was killed is recognised by
# its trailer and cut back before the next one.
#
# Backing files are read-only copies too, but for one: the backing file
# right under a writable image (a -drive, or the file under a -snapshot
# overlay) is a copy hv may write when the user's file is writable, so that
# the monitor's `commit` can write the image's changes into it
# (hv/core/ctl_dev.c).  The copy, not the file: the user's file is never
# extended or written while the emulator runs (another machine may share it
# as its base), and the manager puts the committed copy in its place
# whole, a new file renamed over it (mgmt/hvmgr/stage_commit.c);
# OUTERDISK_COPY_OF tells which copy belongs to which file.
#
# Positions: file N (0, 1, 2) is ATA position N + 1 (primary slave,
# secondary master, secondary slave) in QEMU and in Bochs alike, because
# Bochs boots from a CD on the primary master.  hv looks at all four and
# finds each file by the number in its trailer.
#
# Use: outerdisk_attach FILE RO (RO 1 for read-only) for each file, in order
# (OUTERDISK_INDEX is then its number for hv), or outerdisk_attach_chain
# FILE RO for an image and its backing files; the emulator back ends add
# "${OUTERDISK_QEMU_ARGS[@]}" and outerdisk_bochs_lines; after the run,
# outerdisk_detach_all.

OUTERDISK_FILES=()    # what the emulator gets, in order
OUTERDISK_ORIGINAL=() # the user's files ("" for a read-only copy)
OUTERDISK_COPY_OF=()  # for a copy hv may write: the user's file, else ""
OUTERDISK_QEMU_ARGS=()
OUTERDISK_INDEX=-1
OUTERDISK_MAX=3

# The trailer's perl: encode (write) or decode (print length) at the end of a
# file.  FNV-1a 32 over bytes 0..507, as hv/disk/diskio.c.
OUTERDISK_PERL='
use strict; use warnings;
sub fnv { use integer; my $h = 2166136261; for my $c (unpack("C*", $_[0])) { $h = (($h ^ $c) * 16777619) & 0xffffffff } $h }
my ($op, $file) = (shift, shift);
open(my $fh, "+<", $file) or die "cannot open $file: $!\n";
binmode $fh;
my $size = -s $fh;
if ($op eq "read") {
    exit 1 if $size < 1024;
    seek($fh, $size - 512, 0); read($fh, my $s, 512) == 512 or exit 1;
    exit 1 unless substr($s, 0, 8) eq "HVKITDSK" && unpack("V", substr($s, 508, 4)) == fnv(substr($s, 0, 508));
    my ($len, $limit) = unpack("Q<Q<", substr($s, 16, 16));
    exit 1 unless $limit == $size - 512 && $len <= $limit;
    print "$len\n"; exit 0;
}
if ($op eq "cut") { truncate($fh, shift) or die "cannot truncate $file: $!\n"; exit 0 }
# write INDEX FLAGS NAME: extend to the limit and write the trailer.
my ($index, $flags, $name) = @ARGV;
my $len = $size;
my $vsize = $len;
seek($fh, 0, 0);
my $h;
if (read($fh, $h, 32) == 32 && substr($h, 0, 4) eq "QFI\xfb") {
    $vsize = unpack("Q>", substr($h, 24, 8));
    $vsize = $len + $vsize + int($vsize / 64) + (8 << 20);
}
# OUTERDISK_ROOM: bytes a file other than qcow2 may grow by (a save file).
$vsize = $len + $ENV{OUTERDISK_ROOM} if ($ENV{OUTERDISK_ROOM} // 0) > 0 && $vsize == $len;
my $cyl = 16 * 63 * 512;
my $disk = int(($vsize + 512 + $cyl - 1) / $cyl) * $cyl;
my $limit = $disk - 512;
truncate($fh, $disk) or die "cannot extend $file: $!\n";
my $s = "HVKITDSK" . pack("VVQ<Q<VV", 1, $index, $len, $limit, $flags, 0);
$s .= pack("a256", substr($name, 0, 255));
$s .= "\0" x (508 - length($s));
$s .= pack("V", fnv($s));
seek($fh, $limit, 0); print $fh $s or die "cannot write $file: $!\n";
close($fh) or die "cannot write $file: $!\n";
'

# outerdisk_recover FILE: a file still extended by a killed run gets its real
# length back (its trailer says it).
outerdisk_recover() {
    local len
    if len=$(perl -e "$OUTERDISK_PERL" read "$1" 2>/dev/null); then
        hvkit_say "$1: cutting it back to $len bytes (left extended by an interrupted run)"
        perl -e "$OUTERDISK_PERL" cut "$1" "$len"
    fi
}

# outerdisk_attach FILE RO: see the top (RO 2: a copy hv may write, for a
# commit).  Exits 125 with a message when the file cannot be used.
outerdisk_attach() {
    local file=$1 ro=$2 target size copy_of="" flags=$2
    if [ "${#OUTERDISK_FILES[@]}" -ge "$OUTERDISK_MAX" ]; then
        hvkit_say "'$file': the outer machine has room for $OUTERDISK_MAX files (ATA positions)"
        exit "$HVKIT_STATUS_USAGE"
    fi
    OUTERDISK_INDEX=${#OUTERDISK_FILES[@]}
    if [ "$ro" != 0 ]; then
        # A sparse copy: the user's file stays as it is.
        target=$HVRUN_TMP/outerdisk$OUTERDISK_INDEX
        cp --sparse=always "$file" "$target" || exit "$HVKIT_STATUS_USAGE"
        # The copy is ours, and the trailer goes into it even when the
        # user's file is read-only (cp keeps the mode).
        chmod u+w "$target" || exit "$HVKIT_STATUS_USAGE"
        OUTERDISK_ORIGINAL+=("")
        # The trailer's flag says writable for hv.
        [ "$ro" = 2 ] && copy_of=$file flags=0
    else
        outerdisk_recover "$file"
        size=$(stat -c %s "$file")
        target=$file
        OUTERDISK_ORIGINAL+=("$file")
    fi
    if ! perl -e "$OUTERDISK_PERL" write "$target" "$OUTERDISK_INDEX" "$flags" "$file" 2>"$HVRUN_TMP/outerdisk.err"; then
        hvkit_say "'$file': $(cat "$HVRUN_TMP/outerdisk.err")"
        # Leave the user's file as it was.
        [ "$ro" != 0 ] || truncate -s "$size" "$file"
        unset 'OUTERDISK_ORIGINAL[-1]'
        exit "$HVKIT_STATUS_USAGE"
    fi
    OUTERDISK_FILES+=("$target")
    OUTERDISK_COPY_OF+=("$copy_of")
    # QEMU: IDE index N + 1 (index = bus * 2 + unit); raw, whatever is inside.
    OUTERDISK_QEMU_ARGS+=(-drive "file=${target//,/,,},format=raw,if=ide,index=$((OUTERDISK_INDEX + 1))")
}

# outerdisk_attach_chain FILE RO [COMMIT]: FILE, then each file of its
# backing chain read-only, under the name imgtool's library opens it by (a
# backing file named relative to the image that refers to it, as QEMU
# resolves it), so that hv finds it by that name (hv/disk/outer.h:
# outer_disk_by_name).  With COMMIT 1 (a virtio disk, and a manager to
# write the copy back), the first backing file of a writable FILE is a
# copy hv may write when the user could write the file itself and make a
# new one beside it (see the top).  OUTERDISK_INDEX is FILE's number
# afterwards.
outerdisk_attach_chain() {
    local file=$1 ro=$2 commit=${3:-0} top names=() i mode
    outerdisk_attach "$file" "$ro"
    top=$OUTERDISK_INDEX
    # The chain as bin/imgtool sees it; a raw file or a broken image has
    # none worth attaching (hv's library reports the broken one).
    mapfile -t names < <("$TOP/bin/imgtool" info --output=json --backing-chain "$file" 2>/dev/null |
        perl -MJSON::PP -e 'local $/; my $j = eval { decode_json(<STDIN>) } or exit 0;
            print "$_->{filename}\n" for @$j[1 .. $#$j]')
    for i in "${names[@]}"; do
        mode=1
        [ "$ro$commit" = 01 ] && [ -w "$i" ] && [ -w "$(dirname "$i")" ] && mode=2
        outerdisk_attach "$i" "$mode"
        ro=1
    done
    OUTERDISK_INDEX=$top
}

# outerdisk_bochs_lines: the bochsrc lines for the attached files.
outerdisk_bochs_lines() {
    local i pos
    local names=(ata0-slave ata1-master ata1-slave)
    for i in "${!OUTERDISK_FILES[@]}"; do
        pos=${names[$i]}
        [ "$pos" = ata1-master ] && echo "ata1: enabled=1, ioaddr1=0x170, ioaddr2=0x370, irq=15"
        # An absolute path: Bochs runs in a directory of its own.
        echo "$pos: type=disk, path=\"$(readlink -f "${OUTERDISK_FILES[$i]}")\", mode=flat"
    done
}

# outerdisk_detach N: cut file N back to the length its trailer records.
outerdisk_detach() {
    local f=${OUTERDISK_ORIGINAL[$1]:-} len
    [ -n "$f" ] || return 0
    if len=$(perl -e "$OUTERDISK_PERL" read "$f"); then
        perl -e "$OUTERDISK_PERL" cut "$f" "$len"
    else
        hvkit_say "'$f': its trailer is damaged; the file is left extended (inspect it," \
            "then cut it to the image's length)"
        return 1
    fi
}

outerdisk_detach_all() {
    local i rc=0
    for i in "${!OUTERDISK_ORIGINAL[@]}"; do
        outerdisk_detach "$i" || rc=1
    done
    return $rc
}
