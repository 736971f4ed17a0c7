#!/bin/sh
# examples/uv_echo_server (libuv) serves several echo_clients at once and
# sleeps when idle: see tests/event_echo_lib.sh.
server_name=uv_echo_server
skip_reason="configure did not find libuv (Debian: apt-get install libuv1-dev)"
# shellcheck source=tests/event_echo_lib.sh
. "${top_srcdir:-.}/tests/event_echo_lib.sh"
