#!/bin/sh
# examples/epoll_echo_server (bare epoll) serves several echo_clients at
# once, IPv4 and IPv6 on one dual-stack socket, and sleeps when idle: see
# tests/event_echo_lib.sh.
server_name=epoll_echo_server
skip_reason="no sys/epoll.h or sys/signalfd.h"
bind="*"
# shellcheck source=tests/event_echo_lib.sh
. "${top_srcdir:-.}/tests/event_echo_lib.sh"
