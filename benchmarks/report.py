"""The benchmark report: the machine, one markdown table per section, and one PNG chart."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def _first_line(cmd: list[str]) -> str:
    if not shutil.which(cmd[0]):
        return "not installed"
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1) if match else cpu
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except (OSError, AttributeError):
        mem_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": _first_line(["psql", "--version"]),
        "redis": _first_line(["redis-server", "--version"]),
        "wrk": _first_line(["wrk", "--version"]).split(" [")[0],
        "load_1min": round(os.getloadavg()[0], 2),
    }


def _ms(value) -> str:
    return "–" if value is None or value != value else f"{value:.1f}"


def _rows(results: dict) -> list[tuple[str, str, str, str, str]]:
    """(benchmark, setting, throughput or result, p50 ms, p99 ms)."""
    rows = []
    issue = results.get("issue", {})
    for db in ("sqlite", "postgres"):
        for conc in ("issue_c1", "issue_c20"):
            r = issue.get(db, {}).get(conc)
            if r:
                rows.append(
                    (
                        "issue a ticket",
                        f"{db}, {conc[7:]} connection(s)",
                        f"{r['rps']:.0f} tickets/s",
                        _ms(r["p50_ms"]),
                        _ms(r["p99_ms"]),
                    )
                )
    for db in ("sqlite", "postgres"):
        r = results.get("call_next", {}).get(db)
        if r and "calls_per_s" in r:
            rows.append(
                (
                    "call next (+ no-show)",
                    f"{db}, {r['windows']} windows",
                    f"{r['calls_per_s']:.0f} calls/s",
                    _ms(r["p50_ms"]),
                    _ms(r["p99_ms"]),
                )
            )
    fanout = results.get("fanout", {})
    for layout, label in (("one_process", "1 process"), ("two_processes_redis", "2 processes + Redis")):
        for n, r in fanout.get(layout, {}).items():
            if "error" in r:
                rows.append(("call → every client", f"{label}, {int(n):,} clients", f"failed: {r['error']}", "–", "–"))
                continue
            connected = f", {r['connected']:,} connected" if r.get("connected", int(n)) < int(n) else ""
            rows.append(
                (
                    "call → every client",
                    f"{label}, {int(n):,} clients{connected}",
                    f"{r['delivered']:,}/{r['expected']:,} delivered",
                    _ms(r["p50_ms"]),
                    _ms(r["p99_ms"]),
                )
            )
    r = results.get("print")
    if r and "p50_ms" in r:
        rows.append(
            (
                "print latency",
                "issue → whole ticket at a TCP printer",
                f"{r['n']} tickets",
                _ms(r["p50_ms"]),
                _ms(r["p99_ms"]),
            )
        )
    r = results.get("voice")
    if r and "p50_ms" in r:
        rows.append(
            (
                "voice latency",
                "call → WAV ready (zh-CN + en, cache miss)",
                f"{r['n']} calls",
                _ms(r["p50_ms"]),
                _ms(r["p99_ms"]),
            )
        )
    for mode, r in results.get("modes", {}).items():
        if "issue_c20" in r:
            i, f = r["issue_c20"], r["fanout_100"]
            rows.append(
                (
                    f"async mode: {mode}",
                    "issue, 20 connections (sqlite)",
                    f"{i['rps']:.0f} tickets/s",
                    _ms(i["p50_ms"]),
                    _ms(i["p99_ms"]),
                )
            )
            rows.append(
                (
                    f"async mode: {mode}",
                    "call → 100 clients",
                    f"{f['delivered']}/{f['expected']} delivered",
                    _ms(f["p50_ms"]),
                    _ms(f["p99_ms"]),
                )
            )
    s = results.get("soak")
    if s and "verdict" in s:
        v = s["verdict"]
        rows.append(
            (
                "soak: issue",
                f"{s['tickets']:,} tickets / {s['minutes']:g} min, {s['windows']} windows, "
                f"{s['subscribers']} subscribers",
                f"RSS {v['rss_mb']['first_third']:.0f} → {v['rss_mb']['last_third']:.0f} MB",
                _ms(s["issue_p50_ms"]),
                _ms(s["issue_p99_ms"]),
            )
        )
        rows.append(
            (
                "soak: call next",
                "same run",
                "p99 flat" if v["p99_flat"] else "p99 grew",
                _ms(s["call_next_p50_ms"]),
                _ms(s["call_next_p99_ms"]),
            )
        )
    return rows


def markdown(results: dict) -> str:
    """The report as markdown: machine, one table, then errors of sections that could not run."""
    m = results["machine"]
    lines = [
        f"Measured {results['started']}{' (quick run)' if results.get('quick') else ''} on {m['cores']} cores "
        f"({m['cpu']}), {m['memory_gb']} GB, {m['os']}, Python {m['python']}, {m['postgresql']}, "
        f"{m['redis'].split(' sha=')[0]}; load average {m['load_1min']} at the start (the machine is shared). "
        "Client and server run on the same machine.",
        *[
            f"Section {name} re-measured {at} (with the code of that day; the other rows are from the first run)."
            for name, at in results.get("remeasured", {}).items()
        ],
        "",
        "| benchmark | setting | result | p50 ms | p99 ms |",
        "|---|---|---|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in _rows(results)]
    errors = {k: v["error"] for k, v in results.items() if isinstance(v, dict) and "error" in v}
    if errors:
        lines += ["", "Sections that did not run: " + "; ".join(f"{k}: {v}" for k, v in errors.items())]
    s = results.get("soak")
    if s and "verdict" in s:
        v = s["verdict"]
        lines += [
            "",
            f"Soak verdict: RSS grew {v['rss_growth_mb']} MB between the first and last third "
            f"({'flat' if v['rss_flat'] else 'GROWING'}); p99 issue {v['issue_p99_ms']['first_third']} → "
            f"{v['issue_p99_ms']['last_third']} ms, call-next {v['call_next_p99_ms']['first_third']} → "
            f"{v['call_next_p99_ms']['last_third']} ms ({'flat' if v['p99_flat'] else 'GROWING'}).",
        ]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path) -> None:
    """Four panels: issue throughput, call-to-client latency by clients, async modes, soak over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0][0]
    labels, values = [], []
    for db in ("sqlite", "postgres"):
        for conc in ("issue_c1", "issue_c20"):
            r = results.get("issue", {}).get(db, {}).get(conc)
            if r:
                labels.append(f"{db}\n{conc[7:]} conn")
                values.append(r["rps"])
    for db in ("sqlite", "postgres"):
        r = results.get("call_next", {}).get(db)
        if r and "calls_per_s" in r:
            labels.append(f"{db}\ncall-next")
            values.append(r["calls_per_s"])
    ax.bar(labels, values, color="#3b6ea8")
    ax.set_title("Throughput (requests/s)")

    ax = axes[0][1]
    for layout, label in (("one_process", "1 process"), ("two_processes_redis", "2 processes + Redis")):
        data = {n: r for n, r in results.get("fanout", {}).get(layout, {}).items() if "p50_ms" in r}
        if data:
            xs = [int(n) for n in data]
            ax.plot(xs, [data[n]["p50_ms"] for n in data], marker="o", label=f"{label} p50")
            ax.plot(xs, [data[n]["p99_ms"] for n in data], marker="x", linestyle="--", label=f"{label} p99")
    ax.set_xscale("log")
    ax.set_xlabel("subscribed clients")
    ax.set_ylabel("ms")
    ax.set_title("Call → ticket_called at every client")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    modes = {k: v for k, v in results.get("modes", {}).items() if "issue_c20" in v}
    if modes:
        ax.bar(list(modes), [v["issue_c20"]["rps"] for v in modes.values()], color="#5a9e6f")
        ax.set_title("Issue, 20 connections, by async mode (tickets/s)")

    ax = axes[1][1]
    samples = results.get("soak", {}).get("samples", [])
    if samples:
        ts = [s["t_s"] / 60 for s in samples]
        ax.plot(ts, [s["issue_p99_ms"] for s in samples], label="issue p99 ms")
        ax.plot(ts, [s["call_next_p99_ms"] for s in samples], label="call-next p99 ms")
        ax.set_xlabel("minutes")
        ax.set_ylabel("ms")
        twin = ax.twinx()
        twin.plot(ts, [s["rss_mb"] for s in samples], color="black", linestyle=":", label="server RSS MB")
        twin.set_ylabel("RSS MB")
        twin.set_ylim(bottom=0)
        ax.legend(loc="upper left", fontsize=8)
        twin.legend(loc="upper right", fontsize=8)
        ax.set_title("Soak: p99 and memory over the compressed day")
    fig.suptitle(f"OneWindow benchmarks, {results['started']}, {results['machine']['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
