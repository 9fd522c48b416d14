#!/usr/bin/env bash
# pgbailiff benchmark: PostgreSQL direct vs PgBouncer (session mode) vs pgbailiff, side by side,
# all on loopback, everything set up from scratch and torn down at the end.
#
#   bench/run.sh                         # everything, defaults (about 8 minutes on 2 cores)
#   bench/run.sh --cell-seconds 3 --rounds 1 --clients "1 8" --parts throughput
#   CELL_SECONDS=5 ROUNDS=5 bench/run.sh
#
# Options (each also an environment variable of the upper-case name):
#   --parts LIST          comma list of: throughput,rate,connect,cancel,show,memory,copy,jmh,profile
#                         (default: all but rate and profile)
#   --cell-seconds N      CELL_SECONDS   seconds per pgbench cell (+1 s at 100+ clients) (2)
#   --rounds N            ROUNDS         rounds; the three targets interleave in each   (3)
#   --clients "LIST"      CLIENTS        pgbench client counts                          ("1 8 32 128")
#   --modes "LIST"        MODES          pgbench -M query modes                         ("simple extended prepared")
#   --rate-tps N          RATE_TPS       pgbench -R of the fixed-rate part, at 8 clients (10000)
#   --connect-clients N   CONNECT_CLIENTS clients of the pgbench -C connection-rate cell (8)
#   --profile-clients "LIST" PROFILE_CLIENTS clients of the profile part's cells      ("8 128")
#   --profile-seconds N   PROFILE_SECONDS seconds each profile cell samples the proxy   (8)
#   --idle-counts "LIST"  IDLE_COUNTS    idle sessions for the memory part              ("1000 5000")
#   --show-count N        SHOW_COUNT     open sessions while timing SHOW SESSIONS       (1000)
#   --cancel-tries N      CANCEL_TRIES   tries per cancel kind                          (200)
#   --copy-mb N           COPY_MB        size of the COPY TO STDOUT result, MiB         (1024)
#   --scale N             SCALE          pgbench scale                                  (10)
#   --backend-via tcp|unix BACKEND_VIA   how both proxies reach PostgreSQL: loopback TCP, or its
#                                        Unix-domain socket, as when they run on the database host (tcp)
#   --out DIR             OUT_DIR        where results go        (bench/results/<timestamp>)
# Environment only:
#   PG_BIN (/usr/lib/postgresql/15/bin), PGBOUNCER (pgbouncer), PG_PORT (15432),
#   BAILIFF_PORT (16432), BOUNCER_PORT (17432), PGBENCH_JOBS (2: pgbench threads, at most clients),
#   WARMUP_SECONDS (2 per query mode through pgbailiff before the first round),
#   CONNECT_WARMUP_SECONDS (30 of pgbench -C through pgbailiff before the connection rounds),
#   PGBAILIFF_JAR (proxy/target/pgbailiff.jar), BENCH_JAR (bench/target/pgbailiff-bench.jar),
#   PGBAILIFF_JAVA_OPTS (none: the JVM's defaults),
#   JMH_OPTS ("-f 1 -wi 1 -w 1s -i 3 -r 1s"), JFR=1 (record pgbailiff from its start through the throughput, rate and connect parts;
#   summarise with bench/jfr_top.py), MEMORY_NMT=1 (memory part: break pgbailiff's growth down by
#   Native Memory Tracking category; NMT costs memory itself, so the RSS figures are then a bit high),
#   PROFILE_INTERVAL_US (1000: CPU time between samples in the profile part),
#   BUILD=auto|always|never (auto: build the jars only if missing), KEEP_WORK=1 (keep the temp dir).
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# the command as given, with every setting that came from the environment in front of it
COMMAND_LINE="bench/run.sh"
if (($# > 0)); then COMMAND_LINE+=$(printf ' %q' "$@"); fi
for v in PARTS BACKEND_VIA CELL_SECONDS ROUNDS CLIENTS MODES PROFILE_CLIENTS PROFILE_SECONDS PROFILE_INTERVAL_US RATE_TPS CONNECT_CLIENTS IDLE_COUNTS SHOW_COUNT CANCEL_TRIES COPY_MB SCALE \
    WARMUP_SECONDS CONNECT_WARMUP_SECONDS PGBENCH_JOBS PGBAILIFF_JAR PGBAILIFF_JAVA_OPTS JMH_OPTS JFR MEMORY_NMT; do
    if [[ -n "${!v:-}" ]]; then COMMAND_LINE="$v=$(printf '%q' "${!v}") $COMMAND_LINE"; fi
done

usage() { sed -n '2,/^set -/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --parts) PARTS=$2; shift 2 ;;
        --cell-seconds) CELL_SECONDS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --modes) MODES=$2; shift 2 ;;
        --rate-tps) RATE_TPS=$2; shift 2 ;;
        --connect-clients) CONNECT_CLIENTS=$2; shift 2 ;;
        --idle-counts) IDLE_COUNTS=$2; shift 2 ;;
        --profile-clients) PROFILE_CLIENTS=$2; shift 2 ;;
        --profile-seconds) PROFILE_SECONDS=$2; shift 2 ;;
        --show-count) SHOW_COUNT=$2; shift 2 ;;
        --cancel-tries) CANCEL_TRIES=$2; shift 2 ;;
        --copy-mb) COPY_MB=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --backend-via) BACKEND_VIA=$2; shift 2 ;;
        --out) OUT_DIR=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

: "${PARTS:=throughput,connect,cancel,show,memory,copy,jmh}"
: "${CELL_SECONDS:=2}" "${ROUNDS:=3}" "${CLIENTS:=1 8 32 128}" "${MODES:=simple extended prepared}"
: "${PROFILE_CLIENTS:=8 128}" "${PROFILE_SECONDS:=8}" "${PROFILE_INTERVAL_US:=1000}"
: "${RATE_TPS:=10000}" "${CONNECT_CLIENTS:=8}" "${IDLE_COUNTS:=1000 5000}" "${SHOW_COUNT:=1000}" "${CANCEL_TRIES:=200}"
: "${BACKEND_VIA:=tcp}" "${COPY_MB:=1024}" "${SCALE:=10}" "${WARMUP_SECONDS:=2}" "${CONNECT_WARMUP_SECONDS:=30}" "${PGBENCH_JOBS:=2}"
: "${PG_BIN:=/usr/lib/postgresql/15/bin}" "${PGBOUNCER:=pgbouncer}"
: "${PG_PORT:=15432}" "${BAILIFF_PORT:=16432}" "${BOUNCER_PORT:=17432}"
: "${PGBAILIFF_JAR:=$ROOT/proxy/target/pgbailiff.jar}" "${PGBAILIFF_JAVA_OPTS:=}"
: "${BENCH_JAR:=$ROOT/bench/target/pgbailiff-bench.jar}"
ASYNC_PROFILER_JAR=$(dirname "$BENCH_JAR")/async-profiler.jar
: "${JMH_OPTS:=-f 1 -wi 1 -w 1s -i 3 -r 1s}" "${JFR:=0}" "${MEMORY_NMT:=0}" "${BUILD:=auto}" "${KEEP_WORK:=0}"
: "${OUT_DIR:=$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}"

has_part() { [[ ",$PARTS," == *",$1,"* ]]; }
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

for n in "$CELL_SECONDS" "$ROUNDS" "$PROFILE_SECONDS" "$PROFILE_INTERVAL_US" "$RATE_TPS" "$CONNECT_CLIENTS" "$SHOW_COUNT" "$CANCEL_TRIES" "$COPY_MB" "$SCALE" "$WARMUP_SECONDS" "$CONNECT_WARMUP_SECONDS" "$PGBENCH_JOBS"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"
done
for p in ${PARTS//,/ }; do
    [[ "$p" =~ ^(throughput|rate|connect|cancel|show|memory|copy|jmh|profile)$ ]] || die "unknown part: $p (see --help)"
done
for n in $CLIENTS $PROFILE_CLIENTS $IDLE_COUNTS; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a count: $n"; done
[[ "$BACKEND_VIA" =~ ^(tcp|unix)$ ]] || die "--backend-via is tcp or unix, not $BACKEND_VIA"
for m in $MODES; do [[ "$m" =~ ^(simple|extended|prepared)$ ]] || die "unknown query mode: $m"; done

export PATH="$PG_BIN:$PATH"
command -v pgbench >/dev/null || die "pgbench not found (PG_BIN=$PG_BIN)"
command -v "$PGBOUNCER" >/dev/null || die "PgBouncer not found: apt-get install -y pgbouncer (or set PGBOUNCER)"
CLK_TCK=$(getconf CLK_TCK)

# ---- processes this script starts, all stopped on exit -------------------------------------------

WORK=""
PG_PID="" BOUNCER_PID="" BAILIFF_PID="" SAMPLER_PID="" PGBENCH_PID="" PERF_PID=""
if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run PostgreSQL and PgBouncer"
    # setpriv, not runuser or su: no PAM session, so the raised open-files limit is inherited
    AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
else
    AS_PG=()
fi

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n "$SAMPLER_PID" ]] && kill "$SAMPLER_PID" 2>/dev/null || true
    [[ -n "$PGBENCH_PID" ]] && kill "$PGBENCH_PID" 2>/dev/null || true
    [[ -n "$PERF_PID" ]] && kill -INT "$PERF_PID" 2>/dev/null || true
    stop_bailiff || true
    stop_bouncer || true
    stop_postgres || true
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        cp "$WORK"/*.log "$OUT_DIR"/ 2>/dev/null || true
        if [[ "$KEEP_WORK" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

# wait_until SECONDS COMMAND...: polls every 0.1 s, at most SECONDS*10 times
wait_until() {
    local tries=$(($1 * 10)) i; shift
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$1" -U postgres -d postgres; }

start_postgres() {
    local max_connections=300 n
    if has_part memory; then
        for n in $IDLE_COUNTS; do ((n + 200 > max_connections)) && max_connections=$((n + 200)); done
    fi
    ((SHOW_COUNT + 200 > max_connections)) && max_connections=$((SHOW_COUNT + 200))
    log "initdb, max_connections=$max_connections"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$WORK/pgdata" -A trust -U postgres -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 ||
        die "initdb failed: $(tail -5 "$WORK/initdb.log")"
    cat >>"$WORK/pgdata/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$WORK'
max_connections = $max_connections
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/postgres.log" -w -t 60 start >/dev/null ||
        die "PostgreSQL did not start: $(tail -5 "$WORK/postgres.log")"
    PG_PID=$(head -1 "$WORK/pgdata/postmaster.pid")
    log "PostgreSQL $(postgres --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (pid $PG_PID); pgbench -i -s $SCALE"
    pgbench -i -q -s "$SCALE" -h 127.0.0.1 -p "$PG_PORT" -U postgres postgres >"$WORK/pgbench-init.log" 2>&1 ||
        die "pgbench -i failed: $(tail -5 "$WORK/pgbench-init.log")"
}

stop_postgres() {
    # also when pg_ctl gave up waiting for a postmaster that did start
    [[ -n "$PG_PID" || -f "$WORK/pgdata/postmaster.pid" ]] || return 0
    [[ -n "$PG_PID" ]] || PG_PID=$(head -1 "$WORK/pgdata/postmaster.pid")
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w -t 60 stop >/dev/null 2>&1 || kill "$PG_PID" 2>/dev/null || true
    PG_PID=""
}

start_bouncer() {
    local max_clients=300 n
    for n in $IDLE_COUNTS $SHOW_COUNT; do ((n + 200 > max_clients)) && max_clients=$((n + 200)); done
    printf '"postgres" ""\n' >"$WORK/userlist.txt"
    cat >"$WORK/pgbouncer.ini" <<EOF
[databases]
* = host=$BACKEND_HOST port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = session
server_tls_sslmode = disable
max_client_conn = $max_clients
default_pool_size = $max_clients
ignore_startup_parameters = extra_float_digits
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
EOF
    touch "$WORK/pgbouncer.log"
    [[ ${#AS_PG[@]} -gt 0 ]] && chown postgres "$WORK"/pgbouncer.ini "$WORK"/userlist.txt "$WORK/pgbouncer.log"
    rm -f "$WORK/pgbouncer.pid"
    "${AS_PG[@]}" "$PGBOUNCER" -d "$WORK/pgbouncer.ini" >>"$WORK/pgbouncer-stderr.log" 2>&1 ||
        die "PgBouncer did not start: $(tail -5 "$WORK/pgbouncer-stderr.log" "$WORK/pgbouncer.log")"
    wait_until 30 test -s "$WORK/pgbouncer.pid" || die "PgBouncer wrote no pid file: $(tail -5 "$WORK/pgbouncer.log")"
    BOUNCER_PID=$(cat "$WORK/pgbouncer.pid")
    wait_until 30 pg_ready "$BOUNCER_PORT" || die "PgBouncer not ready: $(tail -5 "$WORK/pgbouncer.log")"
    kill -0 "$BOUNCER_PID" 2>/dev/null || die "PgBouncer exited: $(tail -5 "$WORK/pgbouncer.log")"
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# stop_pid PID SECONDS: SIGTERM, then SIGKILL if it is still there after SECONDS
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait_until "$2" pid_gone "$1" || kill -9 "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

stop_bouncer() {
    [[ -n "$BOUNCER_PID" || ! -s "$WORK/pgbouncer.pid" ]] || BOUNCER_PID=$(cat "$WORK/pgbouncer.pid")
    [[ -n "$BOUNCER_PID" ]] || return 0
    stop_pid "$BOUNCER_PID" 10
    BOUNCER_PID=""
}

# start_bailiff [extra JVM options...]
start_bailiff() {
    # In its own session, as PgBouncer (-d) and PostgreSQL (pg_ctl) are: with the kernel's
    # autogroup scheduling (sched_autogroup_enabled=1), processes of one session share one CPU
    # share, and pgbailiff would otherwise share pgbench's, the script's session.
    # No TLS to the backend, as PgBouncer (server_tls_sslmode = disable): the bench's PostgreSQL
    # offers none, and pgbailiff's default (prefer) would ask for it on every connection.
    # shellcheck disable=SC2086
    setsid java $PGBAILIFF_JAVA_OPTS "$@" -jar "$PGBAILIFF_JAR" --listen "127.0.0.1:$BAILIFF_PORT" \
        --backend "$BACKEND_HOST:$PG_PORT" --backend-tls disable >>"$WORK/pgbailiff.log" 2>&1 &
    BAILIFF_PID=$!
    wait_until 60 pg_ready "$BAILIFF_PORT" || die "pgbailiff not ready: $(tail -5 "$WORK/pgbailiff.log")"
    kill -0 "$BAILIFF_PID" 2>/dev/null || die "pgbailiff exited: $(tail -5 "$WORK/pgbailiff.log")"
    [[ "$(ps -o sid= -p "$BAILIFF_PID" | tr -d ' ')" == "$BAILIFF_PID" ]] || die "pgbailiff did not get a session of its own"
}

stop_bailiff() {
    [[ -n "$BAILIFF_PID" ]] || return 0
    stop_pid "$BAILIFF_PID" 20
    BAILIFF_PID=""
}

port_of() {
    case "$1" in
        direct) echo "$PG_PORT" ;;
        pgbouncer) echo "$BOUNCER_PORT" ;;
        pgbailiff) echo "$BAILIFF_PORT" ;;
    esac
}

# ---- CPU accounting from /proc (clock ticks) -----------------------------------------------------

# These run while pgbench's clients are busy on both cores, so they fork nothing: a fork per
# PostgreSQL backend would stretch a reading over seconds. Results come back in TICKS.

# proc_ticks PID [with-children]: utime+stime, plus cutime+cstime (reaped children) if asked
proc_ticks() {
    local line f
    TICKS=0
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 0
    read -ra f <<<"${line##*) }"
    TICKS=$((f[11] + f[12]))
    if [[ $# -gt 1 ]]; then TICKS=$((TICKS + f[13] + f[14])); fi
}

# every PostgreSQL process: live children of the postmaster, plus the postmaster with its reaped ones
pg_ticks() {
    local total child children=""
    proc_ticks "$PG_PID" children
    total=$TICKS
    { read -r children <"/proc/$PG_PID/task/$PG_PID/children"; } 2>/dev/null || true
    for child in $children; do
        proc_ticks "$child"
        total=$((total + TICKS))
    done
    TICKS=$total
}

proxy_ticks() {
    TICKS=0
    case "$1" in
        pgbouncer) proc_ticks "$BOUNCER_PID" ;;
        pgbailiff) proc_ticks "$BAILIFF_PID" ;;
    esac
}

# user+sys CPU, in microseconds, of this shell's children reaped between two `times` outputs
# (`times` must run in this shell, not in a $(...) subshell, to see them)
children_us_between() {
    awk 'FNR == 2 { n = split($0, t, " "); for (i = 1; i <= n; i++) { split(t[i], p, "m"); sub("s", "", p[2])
            us[FILENAME] += (p[1] * 60 + p[2]) * 1000000 } }
        END { printf "%d\n", us[ARGV[2]] - us[ARGV[1]] }' "$1" "$2"
}

# ---- pgbench cells -------------------------------------------------------------------------------

RESULTS=""

# sockets_of PID: how many sockets the process holds, in SOCKETS (no subshell, no fork)
sockets_of() {
    local f
    SOCKETS=0
    for f in /proc/"$1"/fd/*; do [[ -S "$f" ]] && SOCKETS=$((SOCKETS + 1)); done
    return 0
}

# wait_for_clients PID CLIENTS: until pgbench holds all its client sockets (at most 60 s), or has exited
wait_for_clients() {
    local i
    for ((i = 0; i < 6000; i++)); do
        sockets_of "$1"
        ((SOCKETS >= $2)) && return 0
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.005
    done
}

# run_cell KIND TARGET MODE CLIENTS ROUND SECONDS; KIND: select (-S), rate (-S -R RATE_TPS) or
# connect (-S -C)
#
# pgbench's -T clock includes its connection phase, and its TPS leaves that phase out. The CPU
# counted for a select cell leaves it out too: the counters are read when pgbench holds all its
# client sockets (it makes every connection before the first transaction), and again when it has
# exited, so the window holds every transaction and no connection set-up. A connect cell (-C)
# counts everything: there, connecting is the work.
run_cell() {
    local kind=$1 target=$2 mode=$3 clients=$4 round=$5 seconds=$6
    local port jobs out pb rc pg0 px0 pb0 pg1 px1 tps lat txns failed conn_ms extra=()
    port=$(port_of "$target")
    jobs=$((clients < PGBENCH_JOBS ? clients : PGBENCH_JOBS))
    [[ "$kind" == connect ]] && extra=(-C)
    [[ "$kind" == rate ]] && extra=(-R "$RATE_TPS")
    out="$WORK/pgbench.out"
    if [[ "$kind" == connect ]]; then pg_ticks; pg0=$TICKS; proxy_ticks "$target"; px0=$TICKS; fi
    # pgbench's -T clock starts before its clients connect; at 128 clients on a busy machine that
    # took more than 3 s, so such cells get a second more (the same for every target)
    pgbench -n -S "${extra[@]}" -M "$mode" -c "$clients" -j "$jobs" -T "$((seconds + (clients >= 100 ? 1 : 0)))" \
        -h 127.0.0.1 -p "$port" -U postgres postgres >"$out" 2>&1 &
    pb=$!
    PGBENCH_PID=$pb
    pb0=0
    if [[ "$kind" != connect ]]; then
        wait_for_clients "$pb" "$clients"
        proxy_ticks "$target"; px0=$TICKS; proc_ticks "$pb"; pb0=$TICKS; pg_ticks; pg0=$TICKS
    fi
    times >"$WORK/times0"
    rc=0; wait "$pb" || rc=$?
    PGBENCH_PID=""
    ((rc == 0)) || log "pgbench failed: $kind $target $mode c=$clients: $(grep -m3 -iE 'error|fatal' "$out" | tr '\n' ' ' || true)"
    sleep 0.1 # let the postmaster reap the backends that just ended, so their CPU is counted
    times >"$WORK/times1"; pg_ticks; pg1=$TICKS; proxy_ticks "$target"; px1=$TICKS
    tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$out" | head -1)
    lat=$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' "$out" | head -1)
    txns=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$out" | head -1)
    failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$out" | head -1)
    conn_ms=$(sed -nE 's/^(initial connection time|average connection time) = ([0-9.]+) ms.*/\2/p' "$out" | head -1)
    if [[ -z "$tps" || -z "$txns" || "$txns" -eq 0 ]]; then
        log "no transaction completed: $kind $target $mode c=$clients (initial connection time ${conn_ms:-?} ms; raise CELL_SECONDS)"
        tps=NA; lat=NA; txns=0
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$target" "$mode" "$clients" "$round" \
        "$seconds" "$tps" "${lat:-NA}" "$txns" "${failed:-0}" "${conn_ms:-NA}" \
        "$(((px1 - px0) * 1000000 / CLK_TCK))" "$(((pg1 - pg0) * 1000000 / CLK_TCK))" \
        "$(($(children_us_between "$WORK/times0" "$WORK/times1") - pb0 * 1000000 / CLK_TCK))" >>"$RESULTS"
    log "$(printf '%-8s %-9s %-8s c=%-3s round %s: tps %s, latency %s ms' "$kind" "$target" "$mode" "$clients" "$round" "$tps" "${lat:-NA}")"
}

# the order the targets run in: rotated every round so none always goes first
targets_for_round() {
    local all=(direct pgbouncer pgbailiff) r=$1
    echo "${all[$((r % 3))]} ${all[$(((r + 1) % 3))]} ${all[$(((r + 2) % 3))]}"
}

QUERIES_WARM=0

warm_up_queries() {
    local mode target
    ((QUERIES_WARM)) && return 0
    # The JVM needs its code compiled before it is measured; PostgreSQL's caches warm up with it.
    log "warm-up: ${WARMUP_SECONDS}s per query mode through pgbailiff"
    for mode in $MODES; do
        pgbench -n -S -M "$mode" -c 8 -j "$PGBENCH_JOBS" -T "$WARMUP_SECONDS" -h 127.0.0.1 -p "$BAILIFF_PORT" \
            -U postgres postgres >"$WORK/warmup.out" 2>&1 || die "warm-up through pgbailiff failed: $(tail -3 "$WORK/warmup.out")"
    done
    for target in direct pgbouncer; do
        pgbench -n -S -c 8 -j "$PGBENCH_JOBS" -T 1 -h 127.0.0.1 -p "$(port_of $target)" -U postgres postgres \
            >"$WORK/warmup.out" 2>&1 || die "warm-up through $target failed: $(tail -3 "$WORK/warmup.out")"
    done
    QUERIES_WARM=1
}

throughput_part() {
    local round mode clients target
    warm_up_queries
    for ((round = 1; round <= ROUNDS; round++)); do
        for mode in $MODES; do
            for clients in $CLIENTS; do
                for target in $(targets_for_round "$round"); do
                    run_cell select "$target" "$mode" "$clients" "$round" "$CELL_SECONDS"
                done
            done
        done
    done
}

# The same transactions at a fixed rate every target keeps up with: each process's CPU per
# transaction without the contention of saturated cores, which makes the per-cell figures of
# the throughput part move by tens of percent between rounds on a shared machine.
rate_part() {
    local round mode target
    warm_up_queries
    for ((round = 1; round <= ROUNDS; round++)); do
        for mode in $MODES; do
            for target in $(targets_for_round "$round"); do
                run_cell rate "$target" "$mode" 8 "$round" "$CELL_SECONDS"
            done
        done
    done
}

CONNECTIONS_WARM=0

warm_up_connections() {
    ((CONNECTIONS_WARM)) && return 0
    # Opening connections runs code the query warm-up never reaches. The JIT compiles a method
    # fully after some ten thousand calls, and many run once per connection: at a few hundred
    # connections a second that takes tens of seconds. With a shorter warm-up the rounds measured
    # the compiler and code still being profiled (640 µs per connection against 390 after 30 s).
    log "warm-up: ${CONNECT_WARMUP_SECONDS}s of pgbench -C through pgbailiff"
    pgbench -n -S -C -c "$CONNECT_CLIENTS" -j "$PGBENCH_JOBS" -T "$CONNECT_WARMUP_SECONDS" -h 127.0.0.1 -p "$BAILIFF_PORT" \
        -U postgres postgres >"$WORK/warmup.out" 2>&1 || die "connection warm-up failed: $(tail -3 "$WORK/warmup.out")"
    CONNECTIONS_WARM=1
}

connect_part() {
    local round target
    warm_up_connections
    for ((round = 1; round <= ROUNDS; round++)); do
        for target in $(targets_for_round "$round"); do
            run_cell connect "$target" simple "$CONNECT_CLIENTS" "$round" "$CELL_SECONDS"
        done
    done
}

# ---- where the proxies' CPU goes ------------------------------------------------------------------

# Sampled call stacks of each proxy under the same pgbench load, kernel frames included: most of a
# proxy's CPU is system calls, which JFR does not see. pgbailiff is sampled by async-profiler
# (attached through jcmd, so the JVM runs without it until then), PgBouncer by perf; both count CPU
# time (cpu-clock) at the same interval. bench/cpu_profile.py charges each sample to a category;
# the report spreads the CPU /proc charged the proxy over the same window in those proportions, as
# the profilers take a moment to attach and detach, and divides by pgbench's TPS times the window.
profile_part() {
    local mode clients target
    command -v jcmd >/dev/null || die "the profile part needs jcmd (a JDK, not a JRE)"
    [[ -f "$ASYNC_PROFILER_JAR" ]] || die "no $ASYNC_PROFILER_JAR (built with the bench jar: BUILD=always)"
    local arch
    case "$(uname -m)" in x86_64) arch=linux-x64 ;; aarch64) arch=linux-arm64 ;; *) die "async-profiler has no agent for $(uname -m)" ;; esac
    ASYNC_PROFILER_LIB="$WORK/libasyncProfiler.so"
    python3 -c 'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
        "$ASYNC_PROFILER_JAR" "$arch/libasyncProfiler.so" "$ASYNC_PROFILER_LIB"
    PERF_OK=1
    if ! command -v perf >/dev/null; then
        PERF_OK=0; log "perf not found (apt-get install -y linux-perf): PgBouncer is not profiled"
    fi
    mkdir -p "$OUT_DIR/profiles"
    printf 'target\tmode\tclients\tseconds\ttps\tproxy_cpu_us\tinterval_us\tstacks\n' >"$OUT_DIR/profile.tsv"
    warm_up_queries
    local targets=(pgbouncer pgbailiff)
    [[ "$PERF_OK" == 0 ]] && targets=(pgbailiff)
    for mode in $MODES; do
        for clients in $PROFILE_CLIENTS; do
            for target in "${targets[@]}"; do profile_cell select "$target" "$mode" "$clients"; done
        done
    done
    warm_up_connections
    for target in "${targets[@]}"; do profile_cell connect "$target" simple "$CONNECT_CLIENTS"; done
}

# profile_cell KIND TARGET MODE CLIENTS; KIND: select (-S) or connect (-S -C, a connection per
# transaction). pgbench runs past both ends of the sampled window.
profile_cell() {
    local kind=$1 target=$2 mode=$3 clients=$4
    local port jobs out pb px0 px1 t0 t1 tps stacks query_mode=$mode extra=()
    port=$(port_of "$target")
    jobs=$((clients < PGBENCH_JOBS ? clients : PGBENCH_JOBS))
    out="$WORK/pgbench.out"
    [[ "$kind" == connect ]] && { extra=(-C); mode=connect; }
    stacks="profiles/$target-$mode-$clients.folded"
    pgbench -n -S "${extra[@]}" -M "$query_mode" -c "$clients" -j "$jobs" -T "$((PROFILE_SECONDS + 8 + (clients >= 100 ? 3 : 0)))" \
        -h 127.0.0.1 -p "$port" -U postgres postgres >"$out" 2>&1 &
    pb=$!
    PGBENCH_PID=$pb
    [[ "$kind" == connect ]] || wait_for_clients "$pb" "$clients"
    sleep 1
    case "$target" in
        pgbailiff)
            # jcmd reads "key=value" as its own option, hence the quotes around the agent's options
            # jcmd succeeds whatever the agent answers; the agent's answer is its "return code"
            jcmd "$BAILIFF_PID" JVMTI.agent_load "$ASYNC_PROFILER_LIB" \
                "\"start,event=cpu,interval=${PROFILE_INTERVAL_US}us,threads\"" >"$WORK/jcmd.out" 2>&1 &&
                grep -q '^return code: 0' "$WORK/jcmd.out" ||
                die "async-profiler did not start: $(cat "$WORK/jcmd.out"; tail -3 "$WORK/pgbailiff.log")"
            t0=$EPOCHREALTIME; proxy_ticks "$target"; px0=$TICKS
            sleep "$PROFILE_SECONDS"
            t1=$EPOCHREALTIME; proxy_ticks "$target"; px1=$TICKS
            kill -0 "$pb" 2>/dev/null || log "pgbench ended before the sampled window did: raise its -T margin"
            jcmd "$BAILIFF_PID" JVMTI.agent_load "$ASYNC_PROFILER_LIB" \
                "\"stop,file=$OUT_DIR/$stacks,collapsed\"" >"$WORK/jcmd.out" 2>&1 &&
                grep -q '^return code: 0' "$WORK/jcmd.out" ||
                die "async-profiler did not stop: $(cat "$WORK/jcmd.out"; tail -3 "$WORK/pgbailiff.log")"
            ;;
        pgbouncer)
            perf record -q -e cpu-clock -c "$((PROFILE_INTERVAL_US * 1000))" -g -p "$BOUNCER_PID" -o "$WORK/perf.data" \
                >"$WORK/perf.out" 2>&1 &
            PERF_PID=$!
            sleep 0.5 # perf takes a moment to attach
            t0=$EPOCHREALTIME; proxy_ticks "$target"; px0=$TICKS
            sleep "$PROFILE_SECONDS"
            t1=$EPOCHREALTIME; proxy_ticks "$target"; px1=$TICKS
            kill -0 "$pb" 2>/dev/null || log "pgbench ended before the sampled window did: raise its -T margin"
            kill -INT "$PERF_PID" 2>/dev/null || true
            wait "$PERF_PID" || true # interrupted, as it should be
            [[ -s "$WORK/perf.data" ]] || die "perf record failed: $(tail -3 "$WORK/perf.out")"
            PERF_PID=""
            perf script -i "$WORK/perf.data" 2>/dev/null | python3 "$HERE/cpu_profile.py" fold >"$OUT_DIR/$stacks"
            ;;
    esac
    grep -q '_\[k\]' "$OUT_DIR/$stacks" ||
        log "no kernel frames in $stacks: the profile is of user code only (check kernel.kptr_restrict and kernel.perf_event_paranoid)"
    wait "$pb" || log "pgbench failed: profile $target $mode c=$clients: $(grep -m3 -iE 'error|fatal' "$out" | tr '\n' ' ' || true)"
    PGBENCH_PID=""
    tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$out" | head -1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$mode" "$clients" \
        "$(awk "BEGIN { print ${t1/,/.} - ${t0/,/.} }")" "${tps:-NA}" "$(((px1 - px0) * 1000000 / CLK_TCK))" \
        "$PROFILE_INTERVAL_US" "$stacks" >>"$OUT_DIR/profile.tsv"
    log "$(printf 'profile  %-9s %-8s c=%-3s: tps %s' "$target" "$mode" "$clients" "${tps:-NA}")"
}

# ---- the Java parts ------------------------------------------------------------------------------

bench_java() { java -Xmx1g -cp "$BENCH_JAR" "$@"; }

cancel_part() {
    log "cancel latency: $CANCEL_TRIES tries per kind"
    bench_java io.pgbailiff.bench.CancelLatency --tries "$CANCEL_TRIES" \
        --proxy-url "jdbc:postgresql://127.0.0.1:$BAILIFF_PORT/postgres?user=postgres" \
        --direct-url "jdbc:postgresql://127.0.0.1:$PG_PORT/postgres?user=postgres" | tee -a "$OUT_DIR/java.txt" >&2
}

# Memory first, on fresh proxies, with nothing but opening sessions between the readings; SHOW
# SESSIONS afterwards, as its own pass, so the garbage its answers leave cannot be counted as
# memory held by idle sessions.
memory_part() {
    local counts
    counts=$(echo "$IDLE_COUNTS" | tr ' ' ',')
    local nmt=()
    log "idle sessions through a fresh pgbailiff: $IDLE_COUNTS"
    stop_bailiff
    if [[ "$MEMORY_NMT" == 1 ]]; then
        start_bailiff -XX:NativeMemoryTracking=summary; nmt=(--nmt)
    else
        start_bailiff
    fi
    bench_java io.pgbailiff.bench.IdleSessions --port "$BAILIFF_PORT" --pid "$BAILIFF_PID" --jvm --histogram \
        --label pgbailiff --counts "$counts" "${nmt[@]}" | tee -a "$OUT_DIR/java.txt" >&2
    log "idle sessions through a fresh PgBouncer: $IDLE_COUNTS"
    stop_bouncer; start_bouncer
    bench_java io.pgbailiff.bench.IdleSessions --port "$BOUNCER_PORT" --pid "$BOUNCER_PID" --label pgbouncer \
        --counts "$counts" | tee -a "$OUT_DIR/java.txt" >&2
    # PgBouncer keeps the server connections of clients that left; they would fill max_connections
    stop_bouncer; start_bouncer
}

show_part() {
    log "SHOW SESSIONS with $SHOW_COUNT open sessions, then pg_stat_activity straight to PostgreSQL"
    bench_java io.pgbailiff.bench.IdleSessions --port "$BAILIFF_PORT" --pid "$BAILIFF_PID" --label pgbailiff-show \
        --counts "$SHOW_COUNT" --show-sessions 1000 --warmup 50 --direct-port "$PG_PORT" \
        | grep '^show_sessions' | tee -a "$OUT_DIR/java.txt" >&2
}

copy_part() {
    local rows=$((COPY_MB * 1024)) target port t0 t1 px0 px1 rss0 hwm peak sql
    sql="COPY (SELECT repeat('x', 1023) FROM generate_series(1, $rows)) TO STDOUT"
    for target in direct pgbouncer pgbailiff; do
        # a fresh proxy, so that its VmHWM is this transfer's peak
        case "$target" in
            pgbailiff) stop_bailiff; start_bailiff ;;
            pgbouncer) stop_bouncer; start_bouncer ;;
        esac
        port=$(port_of "$target")
        psql -X -q -h 127.0.0.1 -p "$port" -U postgres -c "SELECT 1" postgres >/dev/null # warm the path once
        local pid=""
        [[ "$target" == pgbailiff ]] && pid=$BAILIFF_PID
        [[ "$target" == pgbouncer ]] && pid=$BOUNCER_PID
        rss0=NA; hwm=NA; peak=NA
        if [[ -n "$pid" ]]; then
            rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
            : >"$WORK/rss-samples"
            touch "$WORK/sampling"
            ( for ((i = 0; i < 36000; i++)); do # at most an hour
                  [[ -e "$WORK/sampling" ]] || break
                  awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" >>"$WORK/rss-samples" 2>/dev/null || break
                  sleep 0.1
              done ) &
            SAMPLER_PID=$!
        fi
        proxy_ticks "$target"; px0=$TICKS
        t0=$(date +%s%N)
        psql -X -q -h 127.0.0.1 -p "$port" -U postgres -c "$sql" postgres >/dev/null || die "COPY through $target failed"
        t1=$(date +%s%N)
        proxy_ticks "$target"; px1=$TICKS
        if [[ -n "$pid" ]]; then
            rm -f "$WORK/sampling"; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
            hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
            peak=$(sort -n "$WORK/rss-samples" | tail -1)
        fi
        printf 'copy target=%s mib=%d seconds=%.3f mib_per_s=%.1f proxy_cpu_ms=%d rss_before_kb=%s rss_peak_sampled_kb=%s vmhwm_kb=%s\n' \
            "$target" "$COPY_MB" "$(awk "BEGIN { print ($t1 - $t0) / 1e9 }")" "$(awk "BEGIN { print $COPY_MB / (($t1 - $t0) / 1e9) }")" \
            "$(((px1 - px0) * 1000 / CLK_TCK))" "$rss0" "${peak:-NA}" "$hwm" | tee -a "$OUT_DIR/java.txt" >&2
    done
}

jmh_part() {
    log "JMH: RecognizerBenchmark $JMH_OPTS"
    # shellcheck disable=SC2086
    java -jar "$BENCH_JAR" RecognizerBenchmark $JMH_OPTS -rf json -rff "$OUT_DIR/jmh.json" >"$OUT_DIR/jmh.txt" 2>&1 ||
        die "JMH failed: $(tail -5 "$OUT_DIR/jmh.txt")"
}

# ---- main ----------------------------------------------------------------------------------------

mkdir -p "$OUT_DIR"
START=$(date +%s)
case "$BUILD" in
    always | auto)
        if [[ "$BUILD" == always || ! -f "$PGBAILIFF_JAR" ]]; then
            log "building pgbailiff"; (cd "$ROOT" && mvn -B -q package -DskipTests) || die "build failed"
        fi
        if [[ "$BUILD" == always || ! -f "$BENCH_JAR" ]] || { has_part profile && [[ ! -f "$ASYNC_PROFILER_JAR" ]]; }; then
            log "building bench"; (cd "$ROOT" && mvn -B -q -Pbench -pl bench -am package -DskipTests) || die "bench build failed"
        fi ;;
    never) ;;
    *) die "BUILD must be auto, always or never" ;;
esac
[[ -f "$PGBAILIFF_JAR" ]] || die "no $PGBAILIFF_JAR"
[[ -f "$BENCH_JAR" ]] || die "no $BENCH_JAR"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ "$PARTS" != jmh ]]; then
    for port in "$PG_PORT" "$BOUNCER_PORT" "$BAILIFF_PORT"; do
        if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            die "port $port is in use by another program; choose others with PG_PORT, BOUNCER_PORT, BAILIFF_PORT"
        fi
    done
fi
WORK=$(mktemp -d /tmp/pgbailiff-bench.XXXXXX)
# PostgreSQL's socket directory is $WORK
if [[ "$BACKEND_VIA" == unix ]]; then BACKEND_HOST=$WORK; else BACKEND_HOST=127.0.0.1; fi
[[ ${#AS_PG[@]} -gt 0 ]] && chown postgres "$WORK"
RESULTS="$OUT_DIR/pgbench.tsv"
printf 'kind\ttarget\tmode\tclients\tround\tseconds\ttps\tlatency_ms\ttxns\tfailed\tconn_ms\tproxy_cpu_us\tpg_cpu_us\tpgbench_cpu_us\n' >"$RESULTS"
: >"$OUT_DIR/java.txt"
{
    echo "command: $COMMAND_LINE"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine: $(nproc) cores, $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "sched_autogroup: $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo n/a) (each server in its own session)"
    echo "postgres: $(postgres --version)"
    echo "pgbouncer: $("$PGBOUNCER" --version | head -1)"
    echo "java: $(java -version 2>&1 | head -1)"
    echo "pgbailiff_java_opts: ${PGBAILIFF_JAVA_OPTS:-(JVM defaults)}"
    echo "backend_via: $BACKEND_VIA (both proxies connect to PostgreSQL at $BACKEND_HOST; clients always over TCP)"
    echo "backend_tls: disable for both proxies"
    echo "rate_tps: $RATE_TPS"
    echo "load_before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT_DIR/meta.txt"

if [[ "$PARTS" != jmh ]]; then
    start_postgres
    start_bouncer
    PROFILING_OPTS=()
    if [[ "$JFR" == 1 ]]; then PROFILING_OPTS=("-XX:StartFlightRecording=filename=$OUT_DIR/pgbailiff.jfr,settings=profile"); fi
    # Without this the JIT records where its code came from only at safepoints, and a profiler
    # attached later charges samples in inlined code to the wrong method. It changes what the JIT
    # records about the code it generates, not the code.
    if has_part profile; then PROFILING_OPTS+=(-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints); fi
    start_bailiff "${PROFILING_OPTS[@]}"
    log "PgBouncer on $BOUNCER_PORT (pid $BOUNCER_PID), pgbailiff on $BAILIFF_PORT (pid $BAILIFF_PID)"
    if has_part throughput; then throughput_part; fi
    if has_part rate; then rate_part; fi
    if has_part connect; then connect_part; fi
    if has_part profile; then profile_part; fi
    if [[ "$JFR" == 1 ]]; then stop_bailiff; start_bailiff; fi # ends the recording
    if has_part cancel; then cancel_part; fi
    if has_part memory; then memory_part; fi
    if has_part show; then show_part; fi
    if has_part copy; then copy_part; fi
    stop_bailiff; stop_bouncer; stop_postgres
fi
if has_part jmh; then jmh_part; fi
echo "elapsed_seconds: $(($(date +%s) - START))" >>"$OUT_DIR/meta.txt"
echo "load_after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT_DIR/meta.txt"

python3 "$HERE/report.py" "$OUT_DIR" | tee "$OUT_DIR/report.md"
log "results in $OUT_DIR"
