#!/usr/bin/perl
# function-length.pl [-l] MAX FILE...: "FILE:LINE: NAME() is N lines (more
# than MAX)" for every C function whose body is longer than MAX lines; exit
# status 1 if there is one.  With -l, list every function ("N FILE:LINE
# NAME") instead.
#
# A function's length is its body's, from the line of its opening brace to
# the line of its closing brace, both counted.  The repository's
# .clang-format (BreakBeforeBraces: Linux) puts a function's braces alone at
# the start of a line, and nothing else there: struct and array
# initializers open their brace at the end of a line, and every other block
# is indented.  The name is that of the first line above the brace that
# starts at column 0, where the definition begins.
use strict;
use warnings;

my $list = @ARGV && $ARGV[0] eq '-l' ? shift : '';
my $max = shift // die "usage: function-length.pl [-l] MAX FILE...\n";
my $bad = 0;
for my $file (@ARGV) {
    open my $fh, '<', $file or die "$file: $!\n";
    my @lines = <$fh>;
    close $fh;
    for (my $open = 0; $open < @lines; $open++) {
        next unless $lines[$open] =~ /^\{\s*$/;
        my $def = $open - 1;
        $def-- while $def > 0 && $lines[$def] =~ /^\s/;
        my ($name) = $def >= 0 ? $lines[$def] =~ /(\w+)\s*\(/ : ();
        $name //= '?';
        my $close = $open + 1;
        $close++ while $close < @lines && $lines[$close] !~ /^\}/;
        my $len = $close - $open + 1;
        if ($list) {
            print "$len $file:", $open + 1, " $name\n";
        } elsif ($len > $max) {
            print "$file:", $def + 1, ": $name() is $len lines (more than $max)\n";
            $bad = 1;
        }
    }
}
exit $bad;
