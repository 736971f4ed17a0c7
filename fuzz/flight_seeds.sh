#!/bin/sh
# Writes the seeds of fuzz/fuzz_flight (ops: see the top of fuzz_flight.c)
# into DIR, by default fuzz/corpus/flight next to this script.
set -e
dir=${1:-$(dirname "$0")/corpus/flight}
mkdir -p "$dir"

# seed NAME BYTE...: a file of those bytes (decimal)
seed() {
    f="$dir/$1"
    shift
    : >"$f"
    for b in "$@"; do
        # shellcheck disable=SC2059
        printf "\\$(printf %03o "$b")" >>"$f"
    done
}
# put OP TEXT: a put_packet op with its length and bytes
put() { printf '%s %s ' "$1" "${#2}"; printf '%s' "$2" | od -An -tu1; }

hs="6 6 6 6 6 6 6 6 6 6"                     # deliver everything, 10 rounds
data="$(put 7 hello) 6 $(put 8 world) 6"      # one packet each way

# config 1: admission; 0: Godot's accept loop; +2 MTU 576; +4 batching;
# +8 short timers
seed basic-admission 1 $hs $data 9 6 6
seed basic-godot 0 $hs $data 10 6 6
# first ClientHello lost, then one datagram of the server's flight
seed loss-retransmit 9 1 11 3 6 6 6 1 11 7 $hs 11 15 $hs $data 9 6
# fragments, batching, a duplicate and a reordering
seed dup-reorder-mtu 7 2 6 3 $hs 3 $hs $data 10 2 6
# a flipped byte in the second datagram, then the retransmission
seed mutate 1 0 4 0 0 20 255 11 60 $hs 11 60 $hs $data 9 6
# large packets, replays of old datagrams, a reflected one
seed large-replay 0 $hs 14 0 4 0 6 14 1 4 0 6 12 0 12 3 $data 7 1 65 13 9 6
# connected, then quiet for longer than the idle timeout
seed idle-timeout 9 $hs $data 11 200 15 6 6
# a truncated datagram before the handshake completes
seed truncate 1 6 5 0 40 11 60 $hs $data 10 6
# nothing delivered: the client's handshake timeout (short timers: 3 s)
seed hs-timeout 9 1 11 3 1 11 200 15
