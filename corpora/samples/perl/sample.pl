#!/usr/bin/perl
use strict;
use warnings;

use File::Basename qw(basename);
use Getopt::Long;

# Summarise an access log: hits per status code and top paths.
my %opts = (top => 5, verbose => 0);
GetOptions(\%opts, 'top=i', 'verbose!') or die "bad options\n";

my @files = @ARGV ? @ARGV : ('access.log');
my (%by_status, %by_path);
my $total = 0;

sub parse_line {
    my ($line) = @_;
    return unless $line =~ m{^(\S+) \S+ \S+ \[([^\]]+)\] "(\w+) (\S+)[^"]*" (\d{3}) (\d+|-)};
    return {
        ip     => $1,
        time   => $2,
        method => $3,
        path   => $4,
        status => $5,
        bytes  => $6 eq '-' ? 0 : $6,
    };
}

for my $file (@files) {
    open(my $fh, '<', $file) or do {
        warn "cannot open $file: $!\n";
        next;
    };
    printf STDERR "reading %s\n", basename($file) if $opts{verbose};
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*$/;
        my $rec = parse_line($line);
        unless (defined $rec) {
            print STDERR "skipping: $line\n" if $opts{verbose};
            next;
        }
        $total++;
        $by_status{ $rec->{status} }++;
        $by_path{ $rec->{path} } += $rec->{bytes};
    }
    close $fh;
}

print "Total requests: $total\n";
foreach my $code (sort { $a <=> $b } keys %by_status) {
    my $pct = $total ? 100 * $by_status{$code} / $total : 0;
    printf "  %s  %6d  (%.1f%%)\n", $code, $by_status{$code}, $pct;
}

my @top = (sort { $by_path{$b} <=> $by_path{$a} } keys %by_path)[0 .. $opts{top} - 1];
print "Top paths by bytes:\n";
for my $i (0 .. $#top) {
    last unless defined $top[$i];
    my $path = $top[$i];
    (my $short = $path) =~ s/\?.*$//;
    print "  ", $i + 1, ". $short ($by_path{$path} bytes)\n";
}

my @errors = grep { $_ >= 500 } keys %by_status;
if (@errors) {
    my $list = join ', ', map { "<$_>" } sort @errors;
    die "server errors found: $list\n" if $opts{strict};
    print "warning: server errors: $list\n";
}

exit 0;
