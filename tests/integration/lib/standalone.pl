#!/usr/bin/perl
# standalone.pl FILE...: print "FILE:LINE: what" for every place where a
# file points outside the repository or at one machine, and exit 1 if there
# is any (tests/integration/standalone.sh runs it):
#   - an absolute path, unless it starts with a directory every Debian
#     system has in the same place (/usr, /dev, /tmp, ...);
#   - a relative path with ../ that climbs out of the repository, counted
#     from the file's own directory;
#   - the steering notes of the machine the kit was written on
#     (shared/notes);
#   - a Markdown link to a local file that does not exist, or into build/;
#   - a name.md mentioned in the text that the repository does not have
#     (placeholders such as FILE.md aside).
# Paths are taken relative to $TOP (the repository), which must be set.
use strict;
use warnings;
use File::Basename qw(dirname basename);
use File::Spec;

my $top = $ENV{TOP} or die "standalone.pl: TOP is not set\n";
# First directories of absolute paths that mean the same on every machine:
# the system's own (Debian packages install there), and /DISCARD/, which a
# linker script names, and "/digit", the opcode notation of Intel's manual
# that a wrapped comment line may begin with.
my %system = map { $_ => 1 } qw(dev usr proc sys etc tmp bin sbin lib lib64 boot DISCARD digit);
# Every .md the repository tracks, by name, for "NAME.md" mentions.
my %md_names = map { chomp; (basename($_) => 1) } `git -C '$top' ls-files '*.md'`;

my $bad = 0;
sub report { my ($f, $n, $what) = @_; print "$f:$n: $what\n"; $bad = 1; }

# Depth of a repository-relative directory ("." is 0, "a/b" is 2).
sub depth { my $d = shift; return $d eq '.' ? 0 : scalar(split m{/}, $d); }

for my $file (@ARGV) {
    my $rel = File::Spec->abs2rel(File::Spec->rel2abs($file), $top);
    my $dir = dirname($rel);
    # Binary files (images, test data) have no text to point anywhere, and
    # an SVG is rendered from its .dot, which is checked instead.
    next if -B $file || $file =~ /\.svg$/;
    open(my $fh, '<', $file) or die "standalone.pl: $file: $!\n";
    while (my $line = <$fh>) {
        my $n = $.;
        # Absolute paths: a / after a blank, a quote, a backquote, an opening
        # bracket, '=' or ',' (not after a word, a closing quote of "$VAR",
        # or ')' of "$(VAR)", which make a relative path).
        while ($line =~ m{(?:^|(?<=[\s'`(=,\[<]))(/[A-Za-z][\w.+-]+)((?:/[\w.+-]*)*)}g) {
            my ($first, $rest) = ($1, $2);
            my $pos = $-[0];
            next if $pos >= 2 && substr($line, $pos - 2, 2) =~ /^[\w}]"$/;
            next if $system{substr($first, 1)};
            # An XML closing tag ("</name>", in a here-document of XML), not a path.
            next if $pos >= 1 && substr($line, $pos - 1, 1) eq '<' && $rest eq ''
                && substr($line, $+[0], 1) eq '>';
            # Capitals only: an instruction list such as MOVSW/MOVSD wrapped
            # onto a new comment line, not a directory of any machine.
            next if $first =~ m{^/[A-Z0-9]+(?:-|$)} && $first !~ /[a-z]/;
            report($rel, $n, "absolute path '$first$rest'");
        }
        # ../ climbing out of the repository.
        while ($line =~ m{((?:\.\./)+)}g) {
            my $climb = $1;
            my $ups = () = $climb =~ m{\.\./}g;
            report($rel, $n, "'$climb' climbs out of the repository") if $ups > depth($dir);
        }
        report($rel, $n, "points at shared/notes, which is not part of the repository")
            if $line =~ m{shared/notes};
        # Markdown links to local files (in Markdown only: "a[i](x)" is C).
        while ($file =~ /\.md$/ && $line =~ m{\]\(([^)\s#]+)(?:#[^)]*)?\)}g) {
            my $target = $1;
            next if $target =~ m{^[a-z]+:};
            my $path = File::Spec->catfile($top, $dir, $target);
            report($rel, $n, "link to '$target', which does not exist") unless -e $path;
            # build/ is made by make: a fresh checkout or a web view lacks it.
            report($rel, $n, "link to '$target', inside build/, which a fresh checkout does not have")
                if $target =~ m{(?:^|/)build/};
        }
        # NAME.md mentioned anywhere (a file the reader is sent to).
        while ($line =~ m{(?<![\w./:-])([\w./-]*\w\.md)\b}g) {
            my $m = $1;
            next if -e File::Spec->catfile($top, $dir, $m) || -e File::Spec->catfile($top, $m);
            next if $m !~ m{/} && $md_names{$m};
            # A placeholder in a usage line, e.g. "check-citations.sh FILE.md".
            next if $m =~ m{^(FILE|NAME|DOC|PAGE)\.md$};
            report($rel, $n, "mentions '$m', which the repository does not have");
        }
    }
    close($fh);
}
exit $bad;
