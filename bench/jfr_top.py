#!/usr/bin/env python3
"""Top methods of a JFR recording's CPU samples (jdk.ExecutionSample).

    bench/jfr_top.py recording.jfr [N]

Prints the N (default 25) methods most often on top of the stack (self) and most often anywhere
on it (total), as shares of all samples. Uses the JDK's `jfr` tool.
"""
import collections
import json
import shutil
import subprocess
import sys


def frame_name(frame):
    method = frame["method"]
    return f"{method['type']['name']}.{method['name']}"


def main():
    path = sys.argv[1]
    top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    jfr = shutil.which("jfr") or "jfr"
    raw = subprocess.run([jfr, "print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample", path],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    self_counts, total_counts, threads = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        frames = e["values"]["stackTrace"]["frames"] if e["values"].get("stackTrace") else []
        if not frames:
            continue
        self_counts[frame_name(frames[0])] += 1
        for name in {frame_name(f) for f in frames}:
            total_counts[name] += 1
        thread = e["values"].get("sampledThread") or {}
        threads[thread.get("javaName") or thread.get("osName") or "?"] += 1
    n = sum(self_counts.values())
    print(f"{n} execution samples")
    print("\nthreads:")
    for name, c in threads.most_common(10):
        print(f"  {c / n:6.1%}  {name}")
    print("\nself (top of stack):")
    for name, c in self_counts.most_common(top_n):
        print(f"  {c / n:6.1%}  {name}")
    print("\ntotal (anywhere on the stack):")
    for name, c in total_counts.most_common(top_n):
        print(f"  {c / n:6.1%}  {name}")


if __name__ == "__main__":
    main()
