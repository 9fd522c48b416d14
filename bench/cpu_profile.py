#!/usr/bin/env python3
"""Where a proxy's CPU goes, from sampled call stacks: the profile part of bench/run.sh.

Input is folded stacks, one line per distinct stack: frames from the root down, separated by ';',
then a space and the number of samples. async-profiler writes this form directly ('collapsed');
`cpu_profile.py fold` turns `perf script` output into it. Kernel frames end in '_[k]', as
async-profiler marks them; a first frame in brackets, '[name tid=N]', names the thread.

    cpu_profile.py fold < perf-script.txt > stacks.folded
    cpu_profile.py summary stacks.folded [more.folded ...]     # samples per category
"""
import collections
import re
import sys

# What a sample is charged to, in the order the report lists them.
SEND_WAKE = "kernel: send, waking the receiving process"
SEND = "kernel: send, the rest (TCP/IP on loopback, both ends)"
RECEIVE = "kernel: receive"
EPOLL = "kernel: epoll_wait"
SWITCH = "kernel: switched out and back in (preempted)"
SOCKETS = "kernel: opening and closing connections (socket, connect, accept, close, options)"
PAGE_FAULT = "kernel: page faults (memory touched for the first time)"
KERNEL_OTHER = "kernel: other (epoll_ctl, futex, timers, interrupts)"
NETTY = "user: Netty"
PGBAILIFF = "user: pgbailiff"
MICROMETER = "user: Micrometer"
JDK = "user: JDK"
NATIVE = "user: JVM runtime, C library, other native code"
PGBOUNCER_USER = "user: PgBouncer, libevent, C library"
JIT = "JVM: JIT compiler threads"
GC = "JVM: garbage collector threads"
CATEGORIES = (SEND_WAKE, SEND, RECEIVE, EPOLL, SWITCH, SOCKETS, PAGE_FAULT, KERNEL_OTHER, NETTY, PGBAILIFF, MICROMETER, JDK,
              NATIVE, PGBOUNCER_USER, JIT, GC)

_SEND_CALLS = ("__sys_sendto_[k]", "__sys_sendmsg_[k]", "ksys_write_[k]", "do_writev_[k]")
_RECEIVE_CALLS = ("__sys_recvfrom_[k]", "__sys_recvmsg_[k]", "ksys_read_[k]", "do_readv_[k]")
_WAKE = ("sock_def_readable_[k]", "try_to_wake_up_[k]", "__wake_up_common_[k]", "ep_poll_callback_[k]")
_SOCKET_CALLS = {f"{prefix}{call}_[k]" for prefix in ("__x64_sys_", "__sys_")
                 for call in ("socket", "connect", "accept", "accept4", "close", "shutdown", "setsockopt",
                              "getsockopt", "getsockname", "getpeername")}
_SWITCH = ("schedule_[k]", "__schedule_[k]", "finish_task_switch_[k]", "finish_task_switch.isra.0_[k]")


def _system_call(frames, kernel):
    """'send', 'receive', 'epoll_wait' or None: from the kernel's entry point if the stack shows it,
    else from the C library's wrapper that entered the kernel."""
    if any(f in _SEND_CALLS for f in kernel):
        return "send"
    if any(f in _RECEIVE_CALLS for f in kernel):
        return "receive"
    if "do_epoll_wait_[k]" in kernel:
        return "epoll_wait"
    user = [f for f in frames if not f.endswith("_[k]") and not f.startswith("[")]
    wrapper = user[-1] if user else ""
    if "epoll_wait" in wrapper:
        return "epoll_wait"
    if "send" in wrapper:
        return "send"
    if "recv" in wrapper:
        return "receive"
    return None


def _thread(frames):
    return frames[0][1:].split(" tid=")[0] if frames and frames[0].startswith("[") else ""


def _java_category(frame):
    name = frame.replace(".", "/")
    if name.startswith("io/netty/"):
        return NETTY
    if name.startswith("io/pgbailiff/"):
        return PGBAILIFF
    if name.startswith("io/micrometer/"):
        return MICROMETER
    if name.startswith(("java/", "jdk/", "sun/")):
        return JDK
    return None


def classify(frames, proxy):
    """The category of one sample, given its stack (root first) and which proxy it is from."""
    thread = _thread(frames)
    if thread.startswith(("C1 CompilerThre", "C2 CompilerThre")):
        return JIT
    if thread.startswith(("GC Thread", "G1 ")):
        return GC
    kernel = [f for f in frames if f.endswith("_[k]")]
    if kernel:
        if "exc_page_fault_[k]" in kernel and "do_syscall_64_[k]" not in kernel:
            return PAGE_FAULT
        if any(f in _SOCKET_CALLS for f in kernel):
            return SOCKETS
        call = _system_call(frames, kernel)
        if call == "epoll_wait":
            return EPOLL
        if any(f in _SWITCH for f in kernel):
            return SWITCH
        if call == "send":
            return SEND_WAKE if any(f in _WAKE for f in kernel) else SEND
        if call == "receive":
            return RECEIVE
        return KERNEL_OTHER
    if proxy == "pgbouncer":
        return PGBOUNCER_USER
    return _java_category(frames[-1]) or NATIVE


def summary(paths, proxy):
    """Samples per category over the folded files."""
    counts = collections.Counter()
    for path in paths:
        with open(path) as f:
            for line in f:
                stack, _, n = line.rstrip("\n").rpartition(" ")
                if stack and n.isdigit():
                    counts[classify(stack.split(";"), proxy)] += int(n)
    return counts


_FRAME = re.compile(r"^\s*[0-9a-f]+ (.+?) \((.*)\)$")


def fold(lines):
    """`perf script` output (one sample: a header line, then frames leaf first, then a blank line)
    as folded stacks."""
    stacks = collections.Counter()
    frames = []

    def flush():
        if frames:
            stacks[";".join(reversed(frames))] += 1
            frames.clear()

    for line in lines:
        if not line.strip():
            flush()
            continue
        if not line[0].isspace():
            flush()
            continue
        m = _FRAME.match(line.rstrip("\n"))
        if not m:
            continue
        symbol, dso = m.group(1), m.group(2)
        if symbol == "[unknown]":
            symbol = dso.rsplit("/", 1)[-1]
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
        frames.append(symbol + "_[k]" if dso == "[kernel.kallsyms]" else symbol)
    flush()
    return stacks


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "fold":
        for stack, n in fold(sys.stdin).items():
            print(f"{stack} {n}")
    elif len(sys.argv) >= 3 and sys.argv[1] == "summary":
        proxy = "pgbouncer" if any("pgbouncer" in p for p in sys.argv[2:]) else "pgbailiff"
        counts = summary(sys.argv[2:], proxy)
        total = sum(counts.values()) or 1
        for c in CATEGORIES:
            if counts[c]:
                print(f"{100 * counts[c] / total:5.1f}%  {counts[c]:7d}  {c}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
