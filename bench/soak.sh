#!/usr/bin/env bash
# Soak test of pgbailiff, bounded in time.
#
#   bench/soak.sh [DURATION_SECONDS]        (default 600; or SOAK_DURATION)
#
# Starts a PostgreSQL of its own (from PGBIN, default: pg_config --bindir) and pgbailiff from
# proxy/target/pgbailiff.jar (build it first: mvn -B -q package -DskipTests), then for the whole
# duration runs at once:
#   - pgbench through pgbailiff as user "app": six "soak-target" clients (simple, extended and
#     prepared protocol), restarted whenever a cancel ends one, and four "soak-control" clients;
#   - a canceller as user "ops" (a pg_signal_backend member) issuing random CANCEL QUERY,
#     CANCEL SESSION and md_interrupt_server_connection against soak-target sessions only;
#   - the protocol fuzzer (integration-tests/.../ProtocolFuzzer.java) as user "fuzz";
#   - a bystander psql session holding an open transaction.
# Then it checks: no error in pgbailiff's log, no buffer leak (Netty leak detection at PARANOID),
# no failed or aborted soak-control transaction (no stray cancel), every soak-target abort caused
# by a cancel, the bystander untouched, and sessions, backends, file descriptors, threads and heap
# back to their level before the load. The figures go to stdout and to $WORK/report.txt.
#
# Environment: PGBIN, SOAK_DURATION, SOAK_FUZZ_CONCURRENCY (16), SOAK_CANCEL_INTERVAL (0.3 s),
# SOAK_SEED, SOAK_KEEP=1 (keep the work directory), SOAK_LEAK_LEVEL (paranoid).
# Runs PostgreSQL as the "postgres" OS user when started as root. Exit code 0 when every check holds.
set -euo pipefail

DURATION=${1:-${SOAK_DURATION:-600}}
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 10 || DURATION > 86400)); then
    echo "duration must be a number of seconds between 10 and 86400, not '$DURATION'" >&2
    exit 2
fi
FUZZ_CONCURRENCY=${SOAK_FUZZ_CONCURRENCY:-16}
CANCEL_INTERVAL=${SOAK_CANCEL_INTERVAL:-0.3}
SEED=${SOAK_SEED:-$RANDOM$RANDOM}
LEAK_LEVEL=${SOAK_LEAK_LEVEL:-paranoid}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=$ROOT/proxy/target/pgbailiff.jar
FUZZER=$ROOT/integration-tests/src/test/java/io/pgbailiff/it/ProtocolFuzzer.java
[[ -f $JAR ]] || { echo "no $JAR: build it with mvn -B -q package -DskipTests" >&2; exit 2; }
PGBIN=${PGBIN:-$(pg_config --bindir 2>/dev/null || true)}
if [[ ! -x $PGBIN/initdb ]]; then
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[[ -x $PGBIN/initdb && -x $PGBIN/pgbench && -x $PGBIN/psql ]] || { echo "no PostgreSQL binaries (set PGBIN)" >&2; exit 2; }
for tool in java javac jcmd; do
    command -v $tool >/dev/null || { echo "$tool is not on the PATH" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/pgbailiff-soak.XXXXXX)
chmod 755 "$WORK"
AS_PG=()
if ((EUID == 0)); then
    AS_PG=(runuser -u postgres --)
fi
PIDS=()
PROXY_PID=
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    [[ -n $PROXY_PID ]] && kill "$PROXY_PID" 2>/dev/null
    [[ -f $WORK/pgdata/postmaster.pid ]] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pgdata" -m immediate -w stop >/dev/null 2>&1
    wait 2>/dev/null
    if [[ ${SOAK_KEEP:-0} == 1 ]]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PG_PORT=$(free_port)
PROXY_PORT=$(free_port)
log() { echo "$(date +%H:%M:%S) $*"; }

# the fuzzer needs only the JDK; compiled now so that it starts at once under load
javac -d "$WORK/fuzzer" "$FUZZER"

# ---- PostgreSQL ----
mkdir "$WORK/pgdata"
((EUID == 0)) && chown postgres "$WORK/pgdata"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pgdata" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pgdata" -l "$WORK/pgdata/postgres.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
direct() { "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -At -v ON_ERROR_STOP=1 "$@"; }
direct -d postgres -q <<'SQL'
CREATE ROLE app LOGIN;
CREATE ROLE ops LOGIN IN ROLE pg_signal_backend;
CREATE ROLE fuzz LOGIN;
CREATE DATABASE soak OWNER app;
CREATE DATABASE fuzz OWNER fuzz;
SQL
"$PGBIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U app -i -s 1 -q soak >"$WORK/pgbench-init.log" 2>&1
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PG_PORT"

# ---- pgbailiff ----
cat >"$WORK/logback.xml" <<'XML'
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <logger name="io.zonky" level="WARN"/>
  <!-- one INFO line per malformed connection of the fuzzer says nothing here -->
  <logger name="io.pgbailiff.proxy.FrontendHandler" level="WARN"/>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
java -Xmx256m -XX:MaxDirectMemorySize=256m -XX:NativeMemoryTracking=summary \
    -Dio.netty.leakDetection.level="$LEAK_LEVEL" -Dlogback.configurationFile="$WORK/logback.xml" \
    -jar "$JAR" --listen 127.0.0.1:$PROXY_PORT --backend 127.0.0.1:$PG_PORT >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
proxy() { "$PGBIN/psql" -h 127.0.0.1 -p "$PROXY_PORT" -X -At "$@"; }
for _ in $(seq 100); do
    proxy -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
done
proxy -U postgres -d postgres -c 'SELECT 1' >/dev/null
log "pgbailiff (pid $PROXY_PID) on port $PROXY_PORT, leak detection $LEAK_LEVEL"

# ---- the bystander: an open transaction through pgbailiff for the whole run ----
mkfifo "$WORK/bystander.in"
PGAPPNAME=soak-bystander "$PGBIN/psql" -h 127.0.0.1 -p "$PROXY_PORT" -U app -d soak -X -At \
    <"$WORK/bystander.in" >"$WORK/bystander.out" 2>&1 &
BYSTANDER_PID=$!
PIDS+=("$BYSTANDER_PID")
exec 4>"$WORK/bystander.in"
echo "BEGIN; CREATE TEMP TABLE kept AS SELECT 42 AS v; SELECT 'pid', pg_backend_pid();" >&4

# ---- figures of the idle proxy ----
heap_used_kb() {
    jcmd "$PROXY_PID" GC.run >/dev/null
    # every generation's "used", summed: G1 reports one heap line, Serial and Parallel one per generation
    jcmd "$PROXY_PID" GC.heap_info | awk '/garbage-first heap|def new generation|tenured generation|PSYoungGen|ParOldGen|Shenandoah|ZHeap/ {
        for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub("K,?", "", v); sum += v}} END {print sum + 0}'
}
native_kb() { jcmd "$PROXY_PID" VM.native_memory summary | awk -v what="$1" '$0 ~ what {for (i = 1; i <= NF; i++) if ($i ~ /^committed=/) {v = $i; gsub("[^0-9]", "", v); print v; exit}}'; }
# sessions and backend connections of the soak's databases (the monitoring queries use "postgres")
soak_sessions() { proxy -U postgres -d postgres -c "SELECT count(*) FROM [SHOW SESSIONS] WHERE database_name <> 'postgres'"; }
soak_backends() { direct -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname IN ('soak', 'fuzz')"; }
figures() {
    local prefix=$1
    printf -v "${prefix}_SESSIONS" '%s' "$(soak_sessions)"
    printf -v "${prefix}_BACKENDS" '%s' "$(soak_backends)"
    printf -v "${prefix}_FDS" '%s' "$(ls /proc/$PROXY_PID/fd | wc -l)"
    printf -v "${prefix}_THREADS" '%s' "$(awk '/^Threads:/ {print $2}' /proc/$PROXY_PID/status)"
    printf -v "${prefix}_RSS_KB" '%s' "$(awk '/^VmRSS:/ {print $2}' /proc/$PROXY_PID/status)"
    printf -v "${prefix}_HEAP_KB" '%s' "$(heap_used_kb)"
    printf -v "${prefix}_NATIVE_OTHER_KB" '%s' "$(native_kb '^-  *Other')"
}
sleep 1
figures BEFORE
log "before: sessions $BEFORE_SESSIONS, backends $BEFORE_BACKENDS, fds $BEFORE_FDS, threads $BEFORE_THREADS, heap ${BEFORE_HEAP_KB} KB, direct (NMT Other) ${BEFORE_NATIVE_OTHER_KB} KB, RSS ${BEFORE_RSS_KB} KB"

# ---- the load ----
START=$(date +%s)
END=$((START + DURATION))
cat >"$WORK/script.sql" <<'SQL'
\set aid random(:lo, :hi)
\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT pg_sleep(random() * 0.05);
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
END;
SELECT count(*) FROM pgbench_accounts WHERE aid BETWEEN :aid AND :aid + 100;
SQL
STATEMENTS_PER_TX=6
bench() { # app mode clients seconds lo hi
    PGAPPNAME=$1 "$PGBIN/pgbench" -h 127.0.0.1 -p "$PROXY_PORT" -U app -n -M "$2" -c "$3" -j 1 -T "$4" \
        -f "$WORK/script.sql" -D lo="$5" -D hi="$6" soak
}
target_loop() { # n mode
    local n=$1 mode=$2 run=0
    while (($(date +%s) < END - 1)); do
        run=$((run + 1))
        bench soak-target "$mode" 1 $((END - $(date +%s))) 1 50000 >"$WORK/target-$n-$run.log" 2>&1 || true
    done
}
for n in 1 2 3 4 5 6; do
    modes=(simple extended prepared)
    target_loop "$n" "${modes[$((n % 3))]}" &
    PIDS+=($!)
done
bench soak-control prepared 4 "$DURATION" 50001 100000 >"$WORK/control.log" 2>&1 &
CONTROL_PID=$!
PIDS+=("$CONTROL_PID")

canceller_statements() {
    while (($(date +%s) < END)); do
        k=$((RANDOM % 6))
        case $((RANDOM % 3)) in
            0) echo "CANCEL QUERIES IF EXISTS (SELECT query_id FROM [SHOW QUERIES] WHERE application_name = 'soak-target' LIMIT 1 OFFSET $k);" ;;
            1) echo "CANCEL SESSIONS IF EXISTS (SELECT session_id FROM [SHOW SESSIONS] WHERE application_name = 'soak-target' LIMIT 1 OFFSET $k);" ;;
            *) echo "SELECT 'interrupt', md_interrupt_server_connection(client_connection_id) FROM md_active_server_connections() WHERE client_user_agent = 'soak-target' LIMIT 1 OFFSET $k;" ;;
        esac
        echo "issued" >>"$WORK/canceller.count"
        sleep "$CANCEL_INTERVAL"
    done
}
canceller_statements | PGAPPNAME=soak-canceller "$PGBIN/psql" -h 127.0.0.1 -p "$PROXY_PORT" -U ops -d soak -X -At \
    -v ON_ERROR_STOP=0 >"$WORK/canceller.out" 2>"$WORK/canceller.err" &
CANCELLER_PID=$!
PIDS+=("$CANCELLER_PID")

java -cp "$WORK/fuzzer" io.pgbailiff.it.ProtocolFuzzer --port "$PROXY_PORT" --user fuzz --database fuzz \
    --application soak-fuzz --seed "$SEED" --duration $((END - $(date +%s))) --concurrency "$FUZZ_CONCURRENCY" \
    >"$WORK/fuzz.out" 2>&1 &
FUZZ_PID=$!
PIDS+=("$FUZZ_PID")
log "load running for $DURATION s (fuzz seed $SEED)"

while (($(date +%s) < END)); do
    sleep 5
    if (($(date +%s) % 60 < 5)); then
        log "$(($(date +%s) - START)) s: $(proxy -U postgres -d postgres -c 'SELECT count(*) FROM [SHOW SESSIONS]') sessions, proxy RSS $(awk '/^VmRSS:/ {print $2}' /proc/$PROXY_PID/status) KB"
    fi
done
wait "$CANCELLER_PID" "$FUZZ_PID" "$CONTROL_PID" 2>/dev/null || true
for pid in "${PIDS[@]}"; do
    [[ $pid == "$BYSTANDER_PID" ]] || wait "$pid" 2>/dev/null || true
done
log "load finished after $(($(date +%s) - START)) s"

# ---- afterwards ----
echo "SELECT 'kept', v FROM kept; SELECT 'pid', pg_backend_pid(); COMMIT;" >&4
exec 4>&-
wait "$BYSTANDER_PID" || true
for _ in $(seq 60); do
    (($(soak_sessions) == 0 && $(soak_backends) == 0)) && break
    sleep 0.5
done
figures AFTER

sum_matches() { cat "$@" 2>/dev/null | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'; }
TARGET_TX=$(sum_matches "$WORK"/target-*.log)
CONTROL_TX=$(sum_matches "$WORK/control.log")
TARGET_RUNS=$(ls "$WORK"/target-*.log | wc -l)
CONTROL_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/control.log" | head -1)
CONTROL_ABORTS=$(grep -c "aborted" "$WORK/control.log" || true)
# In prepared mode pgbench prepares a statement when first used, carries on if that fails (as it
# does inside a transaction interrupted by an administrator) and aborts on executing it: such an
# abort counts as the interrupt's, which that run's log shows.
ABORT_LINES=$(for f in "$WORK"/target-*.log; do
    { grep -E "aborted in command|client [0-9]+ aborted" "$f" || true; } | while read -r line; do
        if [[ $line == *"prepared statement"*"does not exist"* ]] && grep -q "interrupted by an administrator" "$f"; then
            echo "$line (after: interrupted by an administrator)"
        else
            echo "$line"
        fi
    done
done)
count_lines() { printf '%s\n' "$ABORT_LINES" | grep -cE "$1" || true; }
ABORTS=$(count_lines .)
ABORTS_57014=$(count_lines 'canceling statement due to user request')
ABORTS_25P02=$(count_lines 'interrupted by an administrator')
ABORTS_57P01=$(count_lines 'terminating connection due to administrator command')
# A session ended by CANCEL SESSION while its client is about to send: the client's write meets
# the closed socket, whose reset discards the FATAL still unread, and pgbench sees only the loss.
ABORTS_LOST=$(count_lines 'perhaps the backend died|SQL command send failed')
ISSUED=$(wc -l <"$WORK/canceller.count")
CANCELLED_QUERIES=$(grep -c '^CANCEL QUERIES 1$' "$WORK/canceller.out" || true)
CANCELLED_SESSIONS=$(grep -c '^CANCEL SESSIONS 1$' "$WORK/canceller.out" || true)
INTERRUPTS=$(grep -c '^interrupt|t$' "$WORK/canceller.out" || true)
# every abort must be the work of a cancel: each CANCEL SESSION ends one client at most
SESSION_ENDS=$((ABORTS_57P01 + ABORTS_LOST))
EXCESS_ENDS=$((SESSION_ENDS > CANCELLED_SESSIONS ? SESSION_ENDS - CANCELLED_SESSIONS : 0))
UNEXPLAINED=$((ABORTS - ABORTS_57014 - ABORTS_25P02 - SESSION_ENDS + EXCESS_ENDS))
CANCELLER_ERRORS=$(grep -c 'ERROR' "$WORK/canceller.err" || true)
FUZZ_LINE=$(grep '^fuzz result:' "$WORK/fuzz.out" || echo "fuzz result: none")
FUZZ_CASES=$(sed -n 's/^fuzz result: \([0-9]*\) cases.*/\1/p' "$WORK/fuzz.out")
FUZZ_VIOLATIONS=$(sed -n 's/.* \([0-9]*\) violations.*/\1/p' "$WORK/fuzz.out" | head -1)
PROXY_ERRORS=$(grep -c ' ERROR ' "$WORK/proxy.log" || true)
LEAKS=$(grep -c 'LEAK:' "$WORK/proxy.log" || true)
KEPT=$(grep -c '^kept|42$' "$WORK/bystander.out" || true)
BYSTANDER_PIDS=$({ grep '^pid|' "$WORK/bystander.out" || true; } | sort -u | wc -l)
STATEMENTS=$(((TARGET_TX + CONTROL_TX) * STATEMENTS_PER_TX + ISSUED))

report() {
    cat <<EOF
pgbailiff soak: $DURATION s, $(nproc) cores, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), leak detection $LEAK_LEVEL, fuzz seed $SEED
statements run:            $STATEMENTS (pgbench transactions: $TARGET_TX soak-target in $TARGET_RUNS runs, $CONTROL_TX soak-control; $STATEMENTS_PER_TX statements each; plus the canceller's)
cancels issued:            $ISSUED (by "ops"; acted on a session: $CANCELLED_QUERIES CANCEL QUERY, $CANCELLED_SESSIONS CANCEL SESSION, $INTERRUPTS md_interrupt_server_connection; the rest found none)
soak-target aborts:        $ABORTS: $ABORTS_57014 statements cancelled (57014), $ABORTS_25P02 transactions interrupted (25P02), $ABORTS_57P01 sessions ended (57P01) and $ABORTS_LOST ended before their FATAL was read; not caused by a cancel: $UNEXPLAINED
soak-control (untargeted): failed transactions ${CONTROL_FAILED:-?}, aborted clients $CONTROL_ABORTS
canceller errors:          $CANCELLER_ERRORS
fuzz:                      ${FUZZ_LINE#fuzz result: }
pgbailiff log:             $PROXY_ERRORS ERROR lines, $LEAKS LEAK reports; warnings: $(grep ' WARN ' "$WORK/proxy.log" | sed 's/^[0-9:.]* WARN  //; s/[0-9]\+/N/g' | sort | uniq -c | sort -rn | head -3 | tr -s ' ' | tr '\n' ';')
bystander:                 transaction kept: $KEPT, backend pids seen: $BYSTANDER_PIDS
                           before      after
soak sessions              $BEFORE_SESSIONS           $AFTER_SESSIONS          (before: the bystander)
soak backend connections   $BEFORE_BACKENDS           $AFTER_BACKENDS
open file descriptors      $BEFORE_FDS          $AFTER_FDS
threads                    $BEFORE_THREADS          $AFTER_THREADS
heap used after GC (KB)    $BEFORE_HEAP_KB       $AFTER_HEAP_KB
direct, NMT Other (KB)     $BEFORE_NATIVE_OTHER_KB       $AFTER_NATIVE_OTHER_KB
RSS (KB)                   $BEFORE_RSS_KB      $AFTER_RSS_KB
EOF
}
report | tee "$WORK/report.txt"
if ((UNEXPLAINED > 0)); then
    printf '%s\n' "$ABORT_LINES" | grep -vE 'canceling statement|interrupted by an administrator|terminating connection|perhaps the backend died|send failed' | head -5 || true
fi

failures=()
((PROXY_ERRORS == 0)) || failures+=("pgbailiff logged errors")
((LEAKS == 0)) || failures+=("buffer leaks")
((UNEXPLAINED == 0)) || failures+=("soak-target aborts not caused by a cancel")
[[ ${CONTROL_FAILED:-x} == 0 && $CONTROL_ABORTS == 0 ]] || failures+=("soak-control transactions failed: a stray cancel")
((CANCELLER_ERRORS == 0)) || failures+=("the canceller got errors")
[[ ${FUZZ_VIOLATIONS:-x} == 0 && -n $FUZZ_CASES ]] || failures+=("fuzz violations or no fuzz result")
((KEPT == 1 && BYSTANDER_PIDS == 1)) || failures+=("the bystander was disturbed")
((AFTER_SESSIONS == 0)) || failures+=("sessions left in pgbailiff")
((AFTER_BACKENDS == 0)) || failures+=("backend connections left open")
((AFTER_FDS <= BEFORE_FDS + 5)) || failures+=("file descriptors not back to baseline")
((AFTER_THREADS <= BEFORE_THREADS + 2)) || failures+=("threads not back to baseline")
((AFTER_HEAP_KB <= BEFORE_HEAP_KB + 8192)) || failures+=("heap after GC more than 8 MB above baseline")
if ((${#failures[@]} == 0)); then
    echo "soak: all checks passed (leaks: 0)"
else
    printf 'soak FAILED: %s\n' "${failures[@]}"
    SOAK_KEEP=1
    exit 1
fi
