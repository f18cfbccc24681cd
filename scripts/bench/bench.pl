#!/usr/bin/perl
# The Sys::Virt side of the benchmarks (libsys-virt-perl).
#
#   bench.pl getinfo URI DOMAIN COUNT
#   bench.pl listall URI ROUNDS
#   bench.pl events drain|live URI DOMAIN COUNT FLIP
#
# Prints key=value lines, like the C programs; see scripts/bench/run.sh.
# Sys::Virt is not thread-safe, so it has no concurrent variant.
#
# Copyright (C) 2026 the luvirt authors
# SPDX-License-Identifier: LGPL-2.1-or-later
use strict;
use warnings;
use Sys::Virt;
use Sys::Virt::Event;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

# Events stop coming: fail rather than hang.
my $STALL_SECONDS = 30;

sub now { clock_gettime(CLOCK_MONOTONIC) }

sub getinfo {
    my ($uri, $name, $count) = @_;
    my $conn = Sys::Virt->new(uri => $uri);
    my $dom = $conn->get_domain_by_name($name);
    my $t0 = now();
    $dom->get_info() for 1 .. $count;
    my $t1 = now();
    printf "seconds=%.6f\ncalls=%d\n", $t1 - $t0, $count;
}

sub listall {
    my ($uri, $rounds) = @_;
    my $conn = Sys::Virt->new(uri => $uri);
    my $n = 0;
    my $t0 = now();
    for (1 .. $rounds) {
        my @doms = $conn->list_all_domains(0);
        $_->get_info() for @doms;
        $n = @doms;
    }
    my $t1 = now();
    printf "seconds=%.6f\ndomains=%d\n", $t1 - $t0, $n;
}

sub events {
    my ($mode, $uri, $name, $wanted, $flip) = @_;
    die "mode must be drain or live\n" unless $mode eq 'drain' || $mode eq 'live';
    Sys::Virt::Event::register_default();
    my $conn = Sys::Virt->new(uri => $uri);
    my ($n, $first, $last) = (0, 0, 0);
    my $cb = $conn->domain_event_register_any(
        undef, Sys::Virt::Domain::EVENT_ID_LIFECYCLE,
        sub { my $t = now(); $first = $t if $n == 0; $n++; $last = $t; });
    # Only here to wake run_default, which would otherwise sleep forever if
    # an event never came.
    my $tick = Sys::Virt::Event::add_timeout(1000, sub {});
    my @argv = ($flip, $uri, $name, $wanted);
    my $pid;
    if ($mode eq 'drain') {
        system(@argv) == 0 or die "flip failed\n";
    } else {
        $pid = fork() // die "fork: $!\n";
        if ($pid == 0) { exec(@argv) or die "exec $flip: $!\n" }
    }
    my $t0 = now();
    while ($n < $wanted) {
        last if now() - ($n ? $last : $t0) > $STALL_SECONDS;
        Sys::Virt::Event::run_default();
    }
    if (defined $pid) {
        waitpid($pid, 0);
        die "flip failed\n" if $?;
    }
    die "received $n of $wanted events\n" if $n != $wanted;
    printf "seconds=%.6f\nevents=%d\n", $last - ($mode eq 'drain' ? $t0 : $first), $n;
    Sys::Virt::Event::remove_timeout($tick);
    $conn->domain_event_deregister_any($cb);
}

my %commands = (getinfo => \&getinfo, listall => \&listall, events => \&events);
my $cmd = shift @ARGV // '';
die "usage: bench.pl getinfo|listall|events ARGS...\n" unless $commands{$cmd};
$commands{$cmd}->(@ARGV);
