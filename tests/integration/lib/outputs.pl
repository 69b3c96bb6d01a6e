#!/usr/bin/perl
# outputs.pl [--skip REGEX] DOC...: check that every output block a document
# quotes is what the command prints on a fresh run.
#
# An output block is a fenced block (```) right after an HTML comment, which
# a rendered page does not show:
#
#   <!-- output of COMMAND (STREAM); vary: PATTERN; PATTERN ... -->
#
# COMMAND is run from the top of the repository (once per document, even if
# several blocks quote it); STREAM is "stdout", "stderr" or "stdout and
# stderr" (both, in the order printed).  A PATTERN is text in which "#"
# stands for a number (decimal, 0x-hex, or bare hex digits with at least
# one decimal digit; a decimal may be negative): the numbers the chapter says vary (addresses, sizes,
# counts, timings), e.g. "rip #" or "TSC # kHz"; a space in a PATTERN
# matches any run of blanks.  Both sides are compared with those numbers
# masked and nothing else: every other character must be equal.
#
# A block and its comment may be indented alike, as inside a list item.
# A block is an excerpt: its first line may be anywhere in the output, and
# from there its lines must be the output's lines one for one, except that
# a line "..." stands for any number of lines the text leaves out.
#
# A fenced block without a language that contains a line starting with
# "[hv] ", "hvrun:", "PASS: ", "FAIL: " or "SUMMARY: " is output: it must
# carry the comment.  Prints "DOC:LINE: ok ...", "DOC:LINE: SKIP ..." (for
# a COMMAND matching --skip) or "DOC:LINE: MISMATCH ..." per block; exit
# status 1 if any block does not match or lacks its comment.
use strict;
use warnings;
use File::Temp qw(tempdir);

my $skip;
if (@ARGV && $ARGV[0] eq '--skip') { shift; $skip = shift; }
my $top = $ENV{TOP} or die "outputs.pl: TOP is not set\n";
my $tmp = tempdir(CLEANUP => 1);
my $bad = 0;
my %runs;    # "COMMAND\0STREAM" -> [lines]

my $num = qr/(?:0x[0-9a-fA-F]+|-?[0-9a-fA-F]*[0-9][0-9a-fA-F]*)/;

# The masking regexes of a block's vary: list, each with its replacement.
sub patterns {
    my @out;
    for my $p (@_) {
        my $re = join('', map { $_ eq '#' ? $num : $_ eq ' ' ? '[ \t]+' : quotemeta($_) }
                      split(/(#| )/, $p));
        (my $shown = $p) =~ s/ +/ /g;
        push @out, [qr/(?<![\w])$re(?![\w])/, $shown];
    }
    return @out;
}

sub mask {
    my ($line, $pats) = @_;
    $line =~ s/$_->[0]/$_->[1]/g for @$pats;
    return $line;
}

# Run COMMAND once and return its lines on STREAM.  One run gives both
# "stdout" and "stderr" (a lesson that quotes both runs its command once);
# "stdout and stderr" needs a run of its own, for the order of the lines.
sub output_of {
    my ($cmd, $stream) = @_;
    my $key = "$cmd\0$stream";
    return $runs{$key} if $runs{$key};
    my $n = scalar(keys %runs);
    my ($o, $e) = ("$tmp/$n.out", "$tmp/$n.err");
    my $both = $stream eq 'stdout and stderr';
    my $redir = $both ? ">'$o' 2>&1" : ">'$o' 2>'$e'";
    system('bash', '-c', "cd '$top' && ($cmd) </dev/null $redir");
    my %files = $both ? ($stream => $o) : (stdout => $o, stderr => $e);
    for my $s (keys %files) {
        open(my $fh, '<', $files{$s}) or die "outputs.pl: $files{$s}: $!\n";
        chomp(my @lines = <$fh>);
        close($fh);
        $runs{"$cmd\0$s"} = \@lines;
    }
    return $runs{$key};
}

# Where the segment (a list of masked lines) matches the masked output
# contiguously, from position FROM on: the index, or -1.  With $best set,
# also the longest partial match, for the report.
sub find_segment {
    my ($seg, $out, $from, $best) = @_;
    for (my $i = $from; $i + @$seg <= @$out; $i++) {
        my $k = 0;
        $k++ while $k < @$seg && $seg->[$k] eq $out->[$i + $k];
        return $i if $k == @$seg;
        @$best = ($k, $i) if $best && $k > $best->[0];
    }
    return -1;
}

sub check_block {
    my ($doc, $at, $cmd, $stream, $vary, $block) = @_;
    if (defined $skip && $cmd =~ /$skip/) {
        print "$doc:$at: SKIP $cmd\n";
        return;
    }
    my @pats = patterns(@$vary);
    my @out = map { mask($_, \@pats) } @{output_of($cmd, $stream)};
    # Split the block at "..." lines into segments.
    my @segs = ([]);
    for my $l (@$block) {
        if ($l eq '...') { push @segs, []; next; }
        push @{$segs[-1]}, mask($l, \@pats);
    }
    my ($pos, $line) = (0, 0);
    for my $seg (@segs) {
        if (!@$seg) { next; }
        my @best = (0, $pos);
        my $i = find_segment($seg, \@out, $pos, \@best);
        if ($i < 0) {
            my ($k, $j) = @best;
            my $want = $seg->[$k];
            my $got = $j + $k < @out ? $out[$j + $k] : '(end of output)';
            print "$doc:$at: MISMATCH with $stream of $cmd\n    quoted:  $want\n    printed: $got\n";
            $bad = 1;
            return;
        }
        $pos = $i + @$seg;
        $line += @$seg;
    }
    print "$doc:$at: ok ($line lines of $stream of $cmd)\n";
}

for my $doc (@ARGV) {
    open(my $fh, '<', $doc) or die "outputs.pl: $doc: $!\n";
    chomp(my @lines = <$fh>);
    close($fh);
    (my $name = $doc) =~ s{^\Q$top\E/}{};
    my $comment = '';    # the HTML comment just before a fence, if any
    for (my $i = 0; $i < @lines; $i++) {
        my $l = $lines[$i];
        if ($l =~ /^\s*<!--/) {
            # A comment, possibly over several lines.
            ($comment = $l) =~ s/^\s+//;
            $comment .= ' ' . $lines[++$i] while $comment !~ /-->/ && $i + 1 < @lines;
            next;
        }
        if ($l =~ /^(\s*)```(\S*)\s*$/) {
            # A fence may be indented (a block inside a list item): its
            # lines lose that indentation.
            my ($indent, $lang, $at) = ($1, $2, $i + 1);
            my @block;
            push @block, $lines[$i] =~ s/^\Q$indent\E//r
                while ++$i < @lines && $lines[$i] !~ /^\s*```\s*$/;
            if ($comment =~ /^<!--\s*output of (.+?) \((stdout|stderr|stdout and stderr)\)(?:;\s*vary:\s*(.*?))?\s*-->$/) {
                my ($cmd, $stream, $vary) = ($1, $2, $3 // '');
                my @vary = grep { length } map { s/^\s+|\s+$//gr } split(/;/, $vary);
                check_block($name, $at, $cmd, $stream, \@vary, \@block);
            } elsif ($lang eq '' && grep { /^(\[hv\] |hvrun:|PASS: |FAIL: |SUMMARY: )/ } @block) {
                print "$name:$at: MISMATCH: output block without an '<!-- output of ... -->' comment\n";
                $bad = 1;
            }
            $comment = '';
            next;
        }
        $comment = '' if $l =~ /\S/;
    }
}
exit $bad;
