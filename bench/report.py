#!/usr/bin/env python3
"""Turns one bench/run.sh result directory into a Markdown report (printed on stdout).

Reads meta.txt, pgbench.tsv (one line per pgbench cell and round), java.txt (key=value lines from
the Java benchmark clients and the COPY part), jmh.json and profile.tsv (with the folded stacks it
names), whichever exist.
"""
import csv
import json
import math
import os
import statistics
import sys

import cpu_profile as stacks

TARGETS = ("direct", "pgbouncer", "pgbailiff")
PROXIES = ("pgbouncer", "pgbailiff")
NAMES = {"direct": "direct", "pgbouncer": "PgBouncer", "pgbailiff": "pgbailiff"}

# the targets the report checks
T_GEOMEAN = 0.75
T_CPU_US = 8.0
T_ADDED_LATENCY_US = 12.0
T_CONNECT = 0.95
T_IDLE_BYTES = 4096
T_CANCEL_P99_MS = 20.0
T_SHOW_MS = 5.0


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x, digits=0, suffix=""):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}{suffix}"


def verdict(ok, value=None, target=None, higher_is_better=True):
    """'met', or 'not met' and by how much."""
    if ok:
        return "**met**"
    if value is None or not target:
        return "**not met**"
    if higher_is_better:
        return f"**not met**: {1 - value / target:.0%} short"
    return f"**not met**: {value / target:.1f}× the target"


def read_meta(d):
    meta = {}
    path = os.path.join(d, "meta.txt")
    if os.path.exists(path):
        for line in open(path):
            if ": " in line:
                k, v = line.rstrip("\n").split(": ", 1)
                meta[k] = v
    return meta


def read_cells(d):
    path = os.path.join(d, "pgbench.tsv")
    if not os.path.exists(path):
        return []
    cells = []
    for row in csv.DictReader(open(path), delimiter="\t"):
        if row["tps"] == "NA":
            row["tps"] = None
            row["latency_ms"] = None
        else:
            row["tps"] = float(row["tps"])
            row["latency_ms"] = float(row["latency_ms"]) if row["latency_ms"] != "NA" else None
        for k in ("clients", "round", "txns", "failed", "proxy_cpu_us", "pg_cpu_us", "pgbench_cpu_us"):
            row[k] = int(row[k])
        cells.append(row)
    return cells


def read_kv(d):
    path = os.path.join(d, "java.txt")
    records = []
    if not os.path.exists(path):
        return records
    for line in open(path):
        parts = line.split()
        if not parts or "=" in parts[0]:
            continue
        rec = {"_kind": parts[0]}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                try:
                    rec[k] = float(v)
                except ValueError:
                    rec[k] = v
        records.append(rec)
    return records


def per_txn(cells, key):
    return median([c[key] / c["txns"] if c["txns"] else None for c in cells])


def throughput(out, cells, summary):
    sel = [c for c in cells if c["kind"] == "select"]
    if not sel:
        return
    modes = list(dict.fromkeys(c["mode"] for c in sel))
    clients = sorted({c["clients"] for c in sel})
    rounds = max(c["round"] for c in sel)
    seconds = sel[0]["seconds"]

    def group(target, mode, n):
        return [c for c in sel if c["target"] == target and c["mode"] == mode and c["clients"] == n]

    out.append(f"## Throughput: pgbench -S, median of {rounds} round(s) of {seconds} s per cell\n")
    out.append("| mode | clients | direct TPS | PgBouncer TPS | pgbailiff TPS | spread d / b / p | "
               "latency ms d / b / p | pgbailiff / direct | pgbailiff / PgBouncer | PgBouncer / direct |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    ratios = {"pgbailiff": [], "pgbouncer": []}
    below = []
    for mode in modes:
        for n in clients:
            tps, spread, lat = {}, {}, {}
            for t in TARGETS:
                xs = [c["tps"] for c in group(t, mode, n) if c["tps"]]
                tps[t] = median(xs)
                spread[t] = (max(xs) - min(xs)) / tps[t] * 100 if xs and tps[t] else None
                lat[t] = median([c["latency_ms"] for c in group(t, mode, n)])
            r_pd = tps["pgbailiff"] / tps["direct"] if tps["pgbailiff"] and tps["direct"] else None
            r_pb = tps["pgbailiff"] / tps["pgbouncer"] if tps["pgbailiff"] and tps["pgbouncer"] else None
            r_bd = tps["pgbouncer"] / tps["direct"] if tps["pgbouncer"] and tps["direct"] else None
            ratios["pgbailiff"].append(r_pd)
            ratios["pgbouncer"].append(r_bd)
            if r_pb is not None and r_pb < 1:
                below.append(f"{mode}/{n} ({r_pb:.2f})")
            out.append(f"| {mode} | {n} | {fmt(tps['direct'])} | {fmt(tps['pgbouncer'])} | {fmt(tps['pgbailiff'])} | "
                       f"{' / '.join(fmt(spread[t], 0, '%') for t in TARGETS)} | "
                       f"{' / '.join(fmt(lat[t], 3) for t in TARGETS)} | "
                       f"{fmt(r_pd, 3)} | {fmt(r_pb, 3)} | {fmt(r_bd, 3)} |")
    out.append("")
    out.append("Spread: (max − min) / median across rounds. Latency: pgbench's average.\n")

    out.append("## CPU per transaction, µs (median over rounds; utime+stime from /proc)\n")
    out.append("| mode | clients | PgBouncer process | pgbailiff process | PostgreSQL d / b / p | pgbench d / b / p |")
    out.append("|---|--:|--:|--:|--:|--:|")
    proxy_cpu = {"pgbouncer": [], "pgbailiff": []}
    for mode in modes:
        for n in clients:
            px = {t: per_txn(group(t, mode, n), "proxy_cpu_us") for t in PROXIES}
            pg = {t: per_txn(group(t, mode, n), "pg_cpu_us") for t in TARGETS}
            pb = {t: per_txn(group(t, mode, n), "pgbench_cpu_us") for t in TARGETS}
            if n >= 8:
                for t in PROXIES:
                    proxy_cpu[t].append(px[t])
            out.append(f"| {mode} | {n} | {fmt(px['pgbouncer'], 1)} | {fmt(px['pgbailiff'], 1)} | "
                       f"{' / '.join(fmt(pg[t], 1) for t in TARGETS)} | {' / '.join(fmt(pb[t], 1) for t in TARGETS)} |")
    out.append("")
    out.append("CPU is counted from the moment pgbench holds all its connections until it has exited: "
               "connection set-up is left out, as in pgbench's TPS.\n")

    gm_p, gm_b = geomean(ratios["pgbailiff"]), geomean(ratios["pgbouncer"])
    if gm_p is not None:
        summary.append(f"| throughput, geometric-mean TPS / direct | ≥ {T_GEOMEAN} | {gm_p:.3f} | "
                       f"{fmt(gm_b, 3)} | {verdict(gm_p >= T_GEOMEAN, gm_p, T_GEOMEAN)} |")
    summary.append(f"| cells where pgbailiff < PgBouncer | none | {len(below)} of {len(ratios['pgbailiff'])}"
                   f"{': ' + ', '.join(below) if below else ''} | – | {verdict(not below)} |")
    cpu_p = [x for x in proxy_cpu["pgbailiff"] if x is not None]
    cpu_b = [x for x in proxy_cpu["pgbouncer"] if x is not None]
    if cpu_p:
        summary.append(f"| proxy CPU per transaction at 8+ clients, µs (mean of cells; max) | ≤ {T_CPU_US:g} | "
                       f"{statistics.mean(cpu_p):.1f} (max {max(cpu_p):.1f}) | "
                       f"{fmt(statistics.mean(cpu_b) if cpu_b else None, 1)} (max {fmt(max(cpu_b, default=None), 1)}) | "
                       f"{verdict(max(cpu_p) <= T_CPU_US, max(cpu_p), T_CPU_US, False)} |")
    if 1 in clients:
        added = {}
        for t in PROXIES:
            per_mode = []
            for mode in modes:
                # paired by round: the targets of one round ran back to back
                diffs = []
                for r in range(1, rounds + 1):
                    a = [c["latency_ms"] for c in group(t, mode, 1) if c["round"] == r]
                    b = [c["latency_ms"] for c in group("direct", mode, 1) if c["round"] == r]
                    if a and b and a[0] is not None and b[0] is not None:
                        diffs.append((a[0] - b[0]) * 1000)
                per_mode.append(median(diffs))
            added[t] = per_mode
        pm = "; ".join(f"{m} {fmt(x, 0)}" for m, x in zip(modes, added["pgbailiff"]))
        bm = "; ".join(f"{m} {fmt(x, 0)}" for m, x in zip(modes, added["pgbouncer"]))
        worst = max((x for x in added["pgbailiff"] if x is not None), default=None)
        summary.append(f"| added latency at 1 client, µs | ≤ {T_ADDED_LATENCY_US:g} | {pm} | {bm} | "
                       f"{verdict(worst is not None and worst <= T_ADDED_LATENCY_US, worst, T_ADDED_LATENCY_US, False)} |")


def rate(out, cells, meta):
    fixed = [c for c in cells if c["kind"] == "rate"]
    if not fixed:
        return
    modes = list(dict.fromkeys(c["mode"] for c in fixed))
    rounds = max(c["round"] for c in fixed)

    def group(target, mode):
        return [c for c in fixed if c["target"] == target and c["mode"] == mode]

    out.append(f"## CPU per transaction at a fixed rate: pgbench -S -R {meta.get('rate_tps', '?')}, 8 clients, "
               f"median of {rounds} round(s)\n")
    out.append("| mode | TPS d / b / p | latency ms d / b / p | PgBouncer process µs | pgbailiff process µs | "
               "PostgreSQL µs d / b / p | pgbench µs d / b / p |")
    out.append("|---|--:|--:|--:|--:|--:|--:|")
    for mode in modes:
        tps = {t: median([c["tps"] for c in group(t, mode) if c["tps"]]) for t in TARGETS}
        lat = {t: median([c["latency_ms"] for c in group(t, mode)]) for t in TARGETS}
        px = {t: per_txn(group(t, mode), "proxy_cpu_us") for t in PROXIES}
        pg = {t: per_txn(group(t, mode), "pg_cpu_us") for t in TARGETS}
        pb = {t: per_txn(group(t, mode), "pgbench_cpu_us") for t in TARGETS}
        out.append(f"| {mode} | {' / '.join(fmt(tps[t]) for t in TARGETS)} | {' / '.join(fmt(lat[t], 3) for t in TARGETS)} | "
                   f"{fmt(px['pgbouncer'], 1)} | {fmt(px['pgbailiff'], 1)} | "
                   f"{' / '.join(fmt(pg[t], 1) for t in TARGETS)} | {' / '.join(fmt(pb[t], 1) for t in TARGETS)} |")
    out.append("")
    out.append("Every target runs the same transactions at the same rate, below what any of them can do, so the "
               "cores are not saturated: each request wakes its processes on its own, with little batching, "
               "which makes these figures higher than at saturation but steadier.\n")


def connect(out, cells, summary):
    con = [c for c in cells if c["kind"] == "connect"]
    if not con:
        return
    n = con[0]["clients"]
    rounds = max(c["round"] for c in con)
    out.append(f"## Connection rate: pgbench -S -C -c {n}, median of {rounds} round(s)\n")
    out.append("| target | connections/s | spread | / direct | proxy CPU µs per connection | PostgreSQL CPU µs per connection |")
    out.append("|---|--:|--:|--:|--:|--:|")
    per_s = {}
    for t in TARGETS:
        g = [c for c in con if c["target"] == t]
        xs = [c["tps"] for c in g if c["tps"]]
        per_s[t] = median(xs)
        spread = (max(xs) - min(xs)) / per_s[t] * 100 if xs and per_s[t] else None
        ratio = per_s[t] / per_s["direct"] if per_s[t] and per_s.get("direct") else None
        out.append(f"| {NAMES[t]} | {fmt(per_s[t])} | {fmt(spread, 0, '%')} | {fmt(ratio, 3)} | "
                   f"{fmt(per_txn(g, 'proxy_cpu_us'), 0) if t != 'direct' else '–'} | {fmt(per_txn(g, 'pg_cpu_us'), 0)} |")
    out.append("")
    out.append("PgBouncer keeps its server connections in session mode after a client leaves; pgbailiff opens "
               "a backend connection for every client connection, as a direct client does.\n")
    if per_s.get("pgbailiff") and per_s.get("direct"):
        r = per_s["pgbailiff"] / per_s["direct"]
        rb = per_s["pgbouncer"] / per_s["direct"] if per_s.get("pgbouncer") else None
        summary.append(f"| connection rate / direct | ≥ {T_CONNECT} | {r:.3f} | {fmt(rb, 3)} | {verdict(r >= T_CONNECT, r, T_CONNECT)} |")


def memory(out, recs, summary):
    idle = [r for r in recs if r["_kind"] == "idle"]
    if not idle:
        return
    out.append("## Memory per idle session (resident set of the proxy process)\n")
    out.append("| target | idle sessions | RSS MiB | marginal bytes per session | from the previous step | without forced GC "
               "| live Java heap bytes per session | time to open, s |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|")
    worst = None
    bouncer = []
    previous = None
    for r in idle:
        if r["count"] == 0:
            out.append(f"| {r['label']} | 0 (baseline after warm-up) | {r['rss_kb'] / 1024:.1f} | | | | | |")
            previous = r
            continue
        heap = r.get("heap_per_session_bytes")
        heap = None if isinstance(heap, str) or heap is None or math.isnan(heap) else heap
        step = None
        if previous is not None and previous["label"] == r["label"] and previous["count"] > 0:
            step = (r["rss_kb"] - previous["rss_kb"]) * 1024 / (r["count"] - previous["count"])
        previous = r
        out.append(f"| {r['label']} | {int(r['count'])} | {r['rss_kb'] / 1024:.1f} | {fmt(r['per_session_bytes'])} | "
                   f"{fmt(step)} | {fmt(r['per_session_nogc_bytes'])} | {fmt(heap)} | {fmt(r.get('open_seconds'), 1)} |")
        if r["label"] == "pgbailiff":
            worst = r["per_session_bytes"] if worst is None else max(worst, r["per_session_bytes"])
        elif r["label"] == "pgbouncer":
            bouncer.append(r["per_session_bytes"])
    out.append("")
    nmt = [r for r in recs if r["_kind"] == "nmt"]
    if nmt:
        out.append("pgbailiff's growth by Native Memory Tracking category (committed, bytes per session):\n")
        counts = sorted({int(r["count"]) for r in nmt})
        cats = list(dict.fromkeys(r["category"] for r in nmt))
        out.append("| category | " + " | ".join(f"{c} sessions" for c in counts) + " |")
        out.append("|---|" + "--:|" * len(counts))
        for cat in cats:
            vals = {int(r["count"]): r["per_session_bytes"] for r in nmt if r["category"] == cat}
            out.append(f"| {cat} | " + " | ".join(fmt(vals.get(c)) for c in counts) + " |")
        out.append("")
    classes = [r for r in recs if r["_kind"] == "heap_class"]
    if classes:
        out.append(f"pgbailiff's live heap growth by class at {int(classes[0]['count'])} sessions "
                   "(jcmd GC.class_histogram), bytes per session:\n")
        out.append("| class | bytes per session |")
        out.append("|---|--:|")
        for r in classes:
            out.append(f"| `{r['class']}` | {fmt(r['per_session_bytes'])} |")
        out.append("")
    out.append("Marginal: (RSS with N idle sessions − RSS at the baseline) / N. For pgbailiff a full GC "
               "(jcmd GC.run) precedes each reading; \"without forced GC\" is the reading just before it.\n")
    if worst is not None:
        summary.append(f"| resident memory per idle session, bytes (worst of the counts) | ≤ {T_IDLE_BYTES} | {worst:,.0f} | "
                       f"{fmt(max(bouncer) if bouncer else None)} | {verdict(worst <= T_IDLE_BYTES, worst, T_IDLE_BYTES, False)} |")


def show_sessions(out, recs, summary):
    show = [r for r in recs if r["_kind"] == "show_sessions"]
    if not show:
        return
    out.append("## SHOW SESSIONS latency (simple query, raw protocol client, rows read)\n")
    out.append("| statement | through | open sessions | rows | tries | p50 ms | p99 ms | max ms | mean ms |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for r in show:
        statement = str(r.get("statement", "SHOW+SESSIONS")).replace("+", " ")
        through = "PostgreSQL, direct" if r["label"] == "postgres" else "pgbailiff"
        out.append(f"| `{statement}` | {through} | {int(r['count'])} | {int(r['rows'])} | {int(r['n'])} | "
                   f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['max_us'] / 1000:.2f} | {r['mean_us'] / 1000:.2f} |")
    out.append("")
    out.append("The two statements run one after the other with the same sessions open: PostgreSQL's own listing of its "
               "sessions is the reference for what such a listing costs on this machine.\n")
    ours = [r for r in show if r["label"] != "postgres"]
    at = [r for r in ours if r["count"] == 1000] or ours[:1]
    if not at:
        return
    r = at[0]
    direct = [d for d in show if d["label"] == "postgres" and d["count"] == r["count"]]
    reference = (f"; PostgreSQL's pg_stat_activity: {direct[0]['p99_us'] / 1000:.2f} (p50 {direct[0]['p50_us'] / 1000:.2f})"
                 if direct else "")
    summary.append(f"| SHOW SESSIONS with {int(r['count'])} sessions, p99 ms | < {T_SHOW_MS:g} | "
                   f"{r['p99_us'] / 1000:.2f} (p50 {r['p50_us'] / 1000:.2f}){reference} | – | "
                   f"{verdict(r['p99_us'] / 1000 < T_SHOW_MS, r['p99_us'] / 1000, T_SHOW_MS, False)} |")


def cancel(out, recs, summary):
    rows = [r for r in recs if r["_kind"] == "cancel"]
    if not rows:
        return
    out.append("## Cancel latency: from sending the cancel to the victim's error (victim in pg_sleep(60))\n")
    out.append("| statement | through | tries | p50 ms | p99 ms | max ms | mean ms | canceller's round trip p50 ms | victim SQLSTATEs |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|---|")
    worst = None
    for r in rows:
        through = "PostgreSQL (baseline)" if r["kind"] == "pg_cancel_backend" else "pgbailiff"
        out.append(f"| {r['kind']} | {through} | {int(r['n'])} | {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | "
                   f"{r['max_us'] / 1000:.2f} | {r['mean_us'] / 1000:.2f} | {r['caller_p50_us'] / 1000:.2f} | {r['sqlstates']} |")
        if r["kind"] != "pg_cancel_backend":
            worst = r["p99_us"] / 1000 if worst is None else max(worst, r["p99_us"] / 1000)
    out.append("")
    if worst is not None:
        summary.append(f"| cancel, victim interrupted, p99 ms (worst kind) | ≤ {T_CANCEL_P99_MS:g} | {worst:.2f} | – | "
                       f"{verdict(worst <= T_CANCEL_P99_MS, worst, T_CANCEL_P99_MS, False)} |")


def copy(out, recs, summary):
    rows = [r for r in recs if r["_kind"] == "copy"]
    if not rows:
        return
    out.append("## Large result: COPY (SELECT repeat('x', 1023) FROM generate_series(...)) TO STDOUT, psql to /dev/null\n")
    out.append("| target | MiB | seconds | MiB/s | / direct | proxy CPU s | RSS before MiB | RSS peak sampled MiB | VmHWM MiB |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    direct = next((r["mib_per_s"] for r in rows if r["target"] == "direct"), None)

    def mib(v):
        return "–" if isinstance(v, str) else f"{v / 1024:.1f}"

    for r in rows:
        ratio = r["mib_per_s"] / direct if direct else None
        cpu = r["proxy_cpu_ms"] / 1000 if r["target"] != "direct" else None
        out.append(f"| {NAMES[r['target']]} | {int(r['mib'])} | {r['seconds']:.2f} | {r['mib_per_s']:.0f} | {fmt(ratio, 3)} | "
                   f"{fmt(cpu, 2)} | {mib(r['rss_before_kb'])} | {mib(r['rss_peak_sampled_kb'])} | {mib(r['vmhwm_kb'])} |")
    out.append("")
    p = next((r for r in rows if r["target"] == "pgbailiff"), None)
    if p and direct and not isinstance(p["vmhwm_kb"], str):
        growth = (p["vmhwm_kb"] - p["rss_before_kb"]) / 1024
        summary.append(f"| COPY {int(p['mib'])} MiB: throughput / direct; peak RSS growth | flat memory | "
                       f"{p['mib_per_s'] / direct:.3f}; +{growth:.1f} MiB | – | see table |")


def profile(out, d):
    path = os.path.join(d, "profile.tsv")
    if not os.path.exists(path):
        return
    cells = {}
    for row in csv.DictReader(open(path), delimiter="\t"):
        folded = os.path.join(d, row["stacks"])
        if row["tps"] == "NA" or float(row["tps"]) <= 0 or not os.path.exists(folded):
            continue
        per_txn = int(row["proxy_cpu_us"]) / (float(row["tps"]) * float(row["seconds"]))
        counts = stacks.summary([folded], row["target"])
        samples = sum(counts.values())
        if not samples:
            continue
        us = {c: per_txn * n / samples for c, n in counts.items()}
        us["_proc"] = per_txn
        us["_samples"] = samples
        cells[(row["mode"], int(row["clients"]), row["target"])] = us
    if not cells:
        return
    out.append("## Where the proxies' CPU goes, µs per transaction (sampled call stacks)\n")
    out.append("pgbailiff sampled by async-profiler, PgBouncer by perf, both on CPU time at the same interval, "
               "in the middle of a pgbench -S run; b = PgBouncer, p = pgbailiff. The CPU /proc charged each "
               "proxy over the sampled window, divided by pgbench's TPS times the window, is spread over "
               "the categories in the proportions of the samples.\n")
    for clients in sorted({k[1] for k in cells if k[0] != "connect"}):
        out.append(f"### {clients} clients\n")
        profile_table(out, cells, [m for m in ("simple", "extended", "prepared") if (m, clients, "pgbailiff") in cells
                                   or (m, clients, "pgbouncer") in cells], clients)
    for clients in sorted({k[1] for k in cells if k[0] == "connect"}):
        out.append(f"### A connection per transaction (pgbench -S -C), {clients} clients: µs per connection\n")
        profile_table(out, cells, ["connect"], clients)


def profile_table(out, cells, modes, clients):
    out.append("| category |" + "".join(f" {m} b | {m} p |" for m in modes))
    out.append("|---|" + "--:|--:|" * len(modes))
    for c in stacks.CATEGORIES + ("_proc", "_samples"):
        values = [cells.get((m, clients, t), {}).get(c) for m in modes for t in ("pgbouncer", "pgbailiff")]
        if not any(values):
            continue
        name = {"_proc": "**total**", "_samples": "samples"}.get(c, c)
        digits = 0 if c == "_samples" else 1
        out.append(f"| {name} |" + "".join(f" {fmt(v, digits)} |" for v in values))
    out.append("")


def jmh(out, d):
    path = os.path.join(d, "jmh.json")
    if not os.path.exists(path):
        return
    results = json.load(open(path))
    out.append("## Recogniser cost per statement (JMH, ns/op, AdminSqlRecognizer.mightContainAdmin)\n")
    out.append("| statement | recognise | decode + recognise |")
    out.append("|---|--:|--:|")
    table = {}
    for r in results:
        name = r["benchmark"].rsplit(".", 1)[1]
        st = r["params"]["statement"]
        table.setdefault(st, {})[name] = (float(r["primaryMetric"]["score"]), float(r["primaryMetric"]["scoreError"]))
    for st, v in table.items():
        def cell(k):
            return f"{v[k][0]:.1f} ± {v[k][1]:.1f}" if k in v and not math.isnan(v[k][1]) else (
                f"{v[k][0]:.1f}" if k in v else "–")
        out.append(f"| {st} | {cell('recognise')} | {cell('decodeAndRecognise')} |")
    out.append("")


def main():
    d = sys.argv[1]
    meta = read_meta(d)
    cells = read_cells(d)
    recs = read_kv(d)
    out, summary = [], []
    out.append(f"# pgbailiff vs PostgreSQL and PgBouncer — {meta.get('date', '')}\n")
    out.append("```")
    for k in ("command", "commit", "machine", "cpu", "sched_autogroup", "postgres", "pgbouncer", "java", "pgbailiff_java_opts",
              "backend_via", "load_before", "load_after", "elapsed_seconds"):
        if k in meta:
            out.append(f"{k}: {meta[k]}")
    out.append("```\n")
    body = []
    throughput(body, cells, summary)
    rate(body, cells, meta)
    connect(body, cells, summary)
    memory(body, recs, summary)
    show_sessions(body, recs, summary)
    cancel(body, recs, summary)
    copy(body, recs, summary)
    jmh(body, d)
    profile(body, d)
    if summary:
        out.append("## Targets\n")
        out.append("| figure | target | pgbailiff | PgBouncer | |")
        out.append("|---|---|---|---|---|")
        out.extend(summary)
        out.append("")
    out.extend(body)
    print("\n".join(out))


if __name__ == "__main__":
    main()
