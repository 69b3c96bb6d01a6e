#!/usr/bin/perl
# manual-cites.pl [-l] FILE...: every citation of a section of Intel's SDM or
# AMD's APM carries the section's title, so that a reader with another
# edition can find it (hv/README.md names the edition whose numbers hvkit
# uses).  Prints "FILE:LINE: ..." for each citation without its title and
# exits 1 if there is one; with -l, lists every citation found instead.
#
# The accepted form: SDM or APM, the volume, then each section (or chapter,
# appendix, table, figure) followed by its title in double quotes,
#   SDM vol 3C 27.3.1 "Checks on the Guest State Area"
#   APM vol 2 15.5.1 "Basic Operation", 15.14 "VMCB State Caching"
#   SDM vol 3D appendix C "VMX Basic Exit Reasons"
#   SDM vol 3A table 6-1 "Protected-Mode Exceptions and Interrupts"
#   SDM vol 2B "STI"                (an instruction: its page's name)
# A mention of a manual or a volume without a section ("the SDM's order",
# "APM vol 3") cites nothing and needs no title.  Comment leaders (" * ",
# "//", "#") between the lines of a citation are ignored, so a citation may
# wrap like any other text.
use strict;
use warnings;

my $list = @ARGV && $ARGV[0] eq '-l' ? shift : 0;
my $bad = 0;

# One section locator: a number like 27.3.1 (or A.3), or a word such as
# "chapter 6", "appendix C", "table 6-1", "figure 6-8" with its id.
my $loc = qr{
    (?: (?i:chapter|ch\.|appendix|section|table|figure)s? \s+
        (?:[A-Z](?![a-z])|\d)(?:[\w-]|\.(?=\w))*
      | \d+(?:\.\d+)+ | [A-D]\.\d+(?:\.\d+)* )
}x;
# A title may be escaped inside a C or shell string: \"VMX Basic Exit Reasons\".
my $title = qr{\\?"[^"\\]+\\?"};

for my $file (@ARGV) {
    open(my $fh, '<', $file) or die "manual-cites.pl: $file: $!\n";
    my ($text, @starts) = ('');
    while (my $line = <$fh>) {
        chomp $line;
        # Drop the comment leader so that a wrapped citation reads on.
        $line =~ s{^\s*(?:\*(?!/)|//|#|;)?\s*}{} if length $text;
        push @starts, length $text;
        $text .= $line . ' ';
    }
    close($fh);
    my $line_of = sub {
        my $off = shift;
        my ($lo, $hi) = (0, $#starts);
        while ($lo < $hi) {
            my $mid = int(($lo + $hi + 1) / 2);
            if ($starts[$mid] <= $off) { $lo = $mid } else { $hi = $mid - 1 }
        }
        return $lo + 1;
    };
    while ($text =~ m{\b(SDM|APM)\b(?!'s)}g) {
        my ($at, $manual) = ($-[0], $1);
        pos($text) = $+[0];
        # The volume, if given: "vol 3C", "vol. 2B", "Vol. 3A", "volume 2".
        $text =~ m{\G,?\s*(?:vol(?:ume)?\.?\s*(\d[A-D]?)\b)?,?\s*}gci;
        my $vol = $1 // '';
        # Then locators, each with its title, separated by "," "and" "/".
        my (@missing, @found);
        while ($text =~ m{\G($loc)(\s*$title)?}gc) {
            my ($l, $t) = ($1, $2);
            push @found, $l . ($t // '');
            push @missing, $l unless defined $t;
            last unless $text =~ m{\G(?:\s*,\s*|\s+and\s+|\s*/\s*|\s+to\s+|-)(?=$loc)}gc;
        }
        # A volume-2 instruction page cited by name needs no number.
        $text =~ m{\G$title}gc if !@found;
        my $where = "$file:" . $line_of->($at);
        if ($list) {
            print "$where: $manual vol $vol @found\n" if @found;
        } elsif (@missing) {
            print "$where: $manual " . ($vol ? "vol $vol " : '') . join(', ', @missing)
                . " without its title in double quotes\n";
            $bad = 1;
        }
    }
}
exit $bad;
