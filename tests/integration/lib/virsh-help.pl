#!/usr/bin/perl
# virsh-help.pl REAL HVKIT: print the real virsh's `help COMMAND` page (file
# REAL) cut down to what hvkit's page (file HVKIT) can be compared with.
#
# hvkit's virsh has a subset of each command's options, so from the real
# page the SYNOPSIS words and OPTIONS lines of options hvkit's page does not
# list are left out (and the OPTIONS heading, if none is left).  Nothing
# else is changed: the caller compares the result with hvkit's page, whose
# every line (NAME, the SYNOPSIS and its order, DESCRIPTION, each option's
# help text, the empty lines) must then be the real one's.
use strict;
use warnings;

my ($real_file, $hv_file) = @ARGV;

# The name of the option an OPTIONS line or a SYNOPSIS word is about.
sub opt_name {
    my ($text) = @_;
    return $1 if $text =~ /^\s*\[?--([\w-]+)/;
    return $1 if $text =~ /^\s*\[?<([\w-]+)>/;
    return undef;
}

# The option names hvkit's page lists under OPTIONS.
open(my $hv, '<', $hv_file) or die "$hv_file: $!\n";
my (%have, $section);
while (<$hv>) {
    if (/^  ([A-Z]+)$/) {
        $section = $1;
        next;
    }
    $have{ opt_name($_) } = 1 if ($section // '') eq 'OPTIONS' && defined opt_name($_);
}
close $hv;

open(my $real, '<', $real_file) or die "$real_file: $!\n";
my @lines = <$real>;
close $real;
$section = '';
my @out;
for my $i (0 .. $#lines) {
    my $line = $lines[$i];
    if ($line =~ /^  ([A-Z]+)$/) {
        $section = $1;
    } elsif ($section eq 'SYNOPSIS' && $line =~ /^    (\S+)(.*)$/) {
        # The words after the command: "<a>", "[--b]", "[--c <string>]",
        # "[<d>]" or "[--e] <string>"; each is kept if hvkit has its option.
        my ($cmd, $rest) = ($1, $2);
        my @words = $rest =~ /(\[[^\]]*\](?: <\w+>)?|<[^>]*>)/g;
        $line = "    $cmd" . join('', map { " $_" } grep { $have{ opt_name($_) // '' } } @words) . "\n";
    } elsif ($section eq 'OPTIONS' && $line =~ /\S/) {
        my $name = opt_name($line);
        next if !defined $name || !$have{$name};
    }
    push @out, $line;
}

# An OPTIONS heading with no option left under it goes, with its empty line.
for my $i (0 .. $#out) {
    next unless $out[$i] =~ /^  OPTIONS$/;
    if ($i + 1 > $#out || $out[ $i + 1 ] !~ /^    /) {
        splice(@out, $i - 1, 2) if $i > 0 && $out[ $i - 1 ] eq "\n";
    }
    last;
}
print @out;
