"""Run every benchmark and write docs/performance.md (``make bench``).

    python bench/run_all.py                       # all, writes docs/performance.md
    python bench/run_all.py --only get_token,provider_load --output /tmp/perf.md
    python bench/run_all.py --json /tmp/perf.json # also the raw results
    python bench/run_all.py --only hub_rush --again /tmp/perf.json --json /tmp/perf2.json
                                                  # rerun one, keep the rest of that run

Each bench module has ``run() -> dict`` and ``report(dict) -> markdown``. The machine is
shared and small, so every figure comes with the load average before and after its bench,
and ratios are measured in the same run as their baseline (counts where possible).
A bench that fails is reported as failed; the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from issue15 import KINDS, POSITIONS, comm_findings, findings_15, targets_15
from stack import ROOT, load_average, machine, progress

#: (key, module, title) in the order they run and appear.
BENCHES = [
    ("get_token", "bench_get_token", "1–2. `get_token()` in a kernel: cached, and pulls over HTTP"),
    (
        "comm_browser",
        "bench_comm_browser",
        "2. `get_token()` pulls in JupyterLab in Chromium: as shipped, HTTP alone, the comm",
    ),
    ("provider_load", "bench_provider_load", "3. Provider load: 8 kernels + 2 tabs vs. authlib in each kernel"),
    ("token_endpoint", "bench_token_endpoint", "4. `POST oidc/token` throughput and latency vs. a trivial handler"),
    ("signin_overhead", "bench_signin_overhead", "5. Sign-in overhead: callback → token in a waiting kernel"),
    ("login", "bench_login", "Sign-in phases through the REST API"),
    ("footprint", "bench_footprint", "6–7. Size, load time, memory; what a kernel pays at start-up"),
    ("kernels_at_once", "bench_kernels_at_once", "64 kernels call `get_token()` at once with an expired cached token"),
    ("refresh_storm", "bench_refresh_storm", "Refresh storm: 500 sessions, with and without the refresh spread"),
    ("hub_rush", "bench_hub_rush", "A hub's morning rush: 500 callbacks in 10 s through the forwarder"),
    ("dask", "bench_dask", "Dask: a rotation in the server → the token on 1, 4, 16 worker processes vs. `client.run`"),
]


# ---------------------------------------------------------------- targets of issue 7


def _targets(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(issue item, target, measured, met) for every target whose bench ran."""
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(item: str, target: str, key: str, figure: Callable[[dict[str, Any]], tuple[str, bool | None]]) -> None:
        if key not in r:
            return
        if "error" in r[key] or "skipped" in r[key]:
            rows.append((item, target, "not measured: " + (r[key].get("skipped") or "the bench failed"), None))
            return
        text, met = figure(r[key])
        rows.append((item, target, text, met))

    add(
        "1 cached `get_token()`",
        "≤ 20 µs median",
        "get_token",
        lambda g: (
            f"{g['cached']['ours']['p50_ns'] / 1000:.2f} µs median, p99 {g['cached']['ours']['p99_ns'] / 1000:.2f} µs "
            f"(floor {g['cached']['floor']['p50_ns'] / 1000:.2f} µs)",
            g["cached"]["ours"]["p50_ns"] <= 20_000,
        ),
    )
    add(
        "2 pull, HTTP",
        "≤ 10 ms p50, ≤ 50 ms p99",
        "get_token",
        lambda g: (
            f"p50 {g['http']['p50_ms']:.1f} ms, p99 {g['http']['p99_ms']:.1f} ms",
            g["http"]["p50_ms"] <= 10 and g["http"]["p99_ms"] <= 50,
        ),
    )
    for kind, label in (
        ("cell_start", "first statement of a cell"),
        ("spaced", "alone, inside a running cell"),
        ("back_to_back", "back to back"),
    ):
        add(
            f"2 pull in JupyterLab, as shipped ({label})",
            "≤ 10 ms p50, ≤ 50 ms p99",
            "comm_browser",
            lambda c, kind=kind: (
                f"p50 {c['default'][kind]['p50_ms']:.1f} ms, p99 {c['default'][kind]['p99_ms']:.1f} ms "
                f"({c['default'][kind]['http_pulls']} over HTTP, {c['default'][kind]['comm_pulls']} over the comm)",
                c["default"][kind]["p50_ms"] <= 10 and c["default"][kind]["p99_ms"] <= 50,
            ),
        )

    def comm_route(c: dict[str, Any]) -> tuple[str, bool]:
        d = c["default"]
        p50 = " / ".join(f"{d[k + '_comm']['p50_ms']:.1f}" for k in KINDS)
        p99 = " / ".join(f"{d[k + '_comm']['p99_ms']:.1f}" for k in KINDS)
        ok = all(d[k + "_comm"]["p50_ms"] <= 10 and d[k + "_comm"]["p99_ms"] <= 50 for k in KINDS)
        return f"p50 {p50} ms, p99 {p99} ms ({POSITIONS})", ok

    add("2 pull through the comm (kernels without the secret)", "≤ 10 ms p50, ≤ 50 ms p99", "comm_browser", comm_route)

    def provider(p: dict[str, Any]) -> tuple[str, bool]:
        ours, base = p["ours"]["provider"], p["baseline"]["provider"]
        ratio = base["refreshes"] / ours["refreshes"] if ours["refreshes"] else float("inf")
        one_per_window = ours["most_in_one_window"] <= 1 and p["windows"] - 1 <= ours["refreshes"] <= p["windows"] + 1
        return (
            f"{ours['refreshes']} refreshes in {p['windows']} windows (never 2 in one window: "
            f"{'yes' if ours['most_in_one_window'] <= 1 else 'no'}); baseline {base['refreshes']}: **{ratio:.1f}×**",
            one_per_window and ratio >= 8,
        )

    add("3 provider load", "one refresh per window, ≥ 8× fewer calls", "provider_load", provider)

    def endpoint(t: dict[str, Any]) -> tuple[str, bool]:
        worst = min(row["token"]["rps"] / row["ceiling"]["rps"] for row in t["rows"])
        p99_64 = next(row["token"]["p99"] for row in t["rows"] if row["concurrency"] == 64)
        return (
            f"≥ {worst:.0%} of the ceiling at 1/16/64 clients; p99 {p99_64:.1f} ms at 64; "
            f"{t['provider_token_calls']} provider calls",
            worst >= 0.5 and p99_64 <= 20 and t["provider_token_calls"] == 0,
        )

    add("4 `oidc/token`", "≥ 50 % of the ceiling, p99 ≤ 20 ms at 64, 0 provider calls", "token_endpoint", endpoint)
    add(
        "5 sign-in overhead",
        "≤ 100 ms",
        "signin_overhead",
        lambda s: (
            f"{s['summary']['overhead_ms']['p50']:.1f} ms median, p95 {s['summary']['overhead_ms']['p95']:.1f} ms",
            s["summary"]["overhead_ms"]["p50"] <= 100,
        ),
    )
    add(
        "6 labextension size",
        "≤ 80 KB gzipped",
        "footprint",
        lambda f: labextension_size(f["labextension"]),
    )
    add(
        "6 server extension load",
        "≤ 150 ms",
        "footprint",
        lambda f: (
            f"{f['load']['median_ms']:.0f} ms median (max {f['load']['max_ms']:.0f})",
            f["load"]["median_ms"] <= 150,
        ),
    )
    add(
        "7 kernel memory",
        "≤ 5 MB added",
        "footprint",
        lambda f: (
            f"{(f['kernel']['after_kb'] - f['kernel']['before_kb']) / 1024:.2f} MB",
            f["kernel"]["after_kb"] - f["kernel"]["before_kb"] <= 5 * 1024,
        ),
    )
    rows += targets_15(r, add)
    return rows


def labextension_size(lab: dict[str, Any]) -> tuple[str, bool]:
    """Met by what a JupyterLab page downloads; the chunks only JupyterLite or a click load are counted apart."""
    page = lab.get("page") or {}
    everything = f"{lab['gzip'] / 1024:.1f} KB gzipped for every chunk ({lab['total'] / 1024:.1f} KB)"
    if "gzip" not in page:
        return everything + " (what a page downloads was not measured)", lab["gzip"] <= 80 * 1024
    return (
        f"{page['gzip'] / 1024:.1f} KB gzipped downloaded by a JupyterLab page ({page['total'] / 1024:.1f} KB); "
        f"{everything}, with the browser engine, jose and the id_token check loaded only on demand",
        page["gzip"] <= 80 * 1024,
    )


# ---------------------------------------------------------------- what bounds the misses


def _findings(r: dict[str, Any]) -> list[str]:
    """Explanations of the figures that miss their target (measured, see bench docstrings)."""
    out: list[str] = []
    out += comm_findings(r)
    endpoint = r.get("token_endpoint", {})
    rows = {row["concurrency"]: row for row in endpoint.get("rows", [])}
    if 64 in rows and rows[64]["token"]["p99"] > 20:
        t, c = rows[64]["token"], rows[64]["ceiling"]
        one = rows.get(1, {}).get("token")
        out += [
            "### Why p99 at 64 clients misses 20 ms",
            "",
            "wrk keeps 64 connections with one request each in flight (a closed loop), so by Little's law "
            f"the mean latency is 64 / throughput. The trivial authenticated handler on the same server "
            f"(the ceiling) does {c['rps']:.0f} req/s here: 64 / {c['rps']:.0f} = {64 / c['rps'] * 1000:.0f} ms "
            f"mean, p99 {c['p99']:.0f} ms. `oidc/token` does {t['rps']:.0f} req/s "
            f"({t['rps'] / c['rps']:.0%} of the ceiling), p99 {t['p99']:.0f} ms. A 20 ms p99 with 64 clients "
            f"needs over {64 / 0.02:,.0f} req/s from one tornado process on a machine whose 2 cores are shared "
            "with wrk: the bound is the Jupyter server's request handling (authentication, tornado), which the "
            "ceiling pays too, not the extension's work"
            + (f"; with one client the p99 is {one['p99']:.1f} ms." if one else ".")
            + " A py-spy profile of the server under 16 clients (1,006 samples at 200 Hz; not part of "
            "`make bench`) puts about 7 % of the server's samples in jupyterlab_oidc's own code (body "
            "parsing, `Broker.get_token`, `token_reply`, environment lookup) and the rest in tornado and "
            "jupyter_server: authentication, `finish()` (writing, request log, prometheus metrics).",
            "",
        ]
    out += findings_15(r)
    return out


# ---------------------------------------------------------------- the document


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _load(value: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in value)


def _run_lines(meta: dict[str, Any]) -> list[str]:
    dirty = lambda m: " (with uncommitted changes)" if m["dirty"] else ""
    run = f"{meta['started']} UTC, {meta['minutes']:.1f} min, commit `{meta['commit']}`{dirty(meta)}"
    if "earlier" not in meta:
        return [f"- Run: {run}"]
    e = meta["earlier"]
    again = ", ".join(k for k, m in meta["benches"].items() if m.get("started", "") >= meta["started"])
    return [
        f"- Run: {e['started']} UTC, {e['minutes']:.1f} min, commit `{e['commit']}`{dirty(e)}; run again on their "
        f"own from {run}: {again} (each bench below says when it ran)"
    ]


def document(results: dict[str, Any], meta: dict[str, Any]) -> str:
    mark = {True: "met", False: "**missed**", None: "—"}
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`bench/run_all.py`); do not edit by hand. Every figure below comes "
        "from the run described here, against the dev OpenID provider (dev/idp, oidc-provider), a real "
        "Jupyter server with the extension, real ipykernel kernels and, for the comm, JupyterLab in "
        "Debian's Chromium, all on loopback. Ratios are measured against their baseline in the same run.",
        "",
        *_run_lines(meta),
        f"- Machine: {meta['machine']}",
        f"- Load average (1/5/15 min) at the start: {_load(meta['load_start'])}; at the end: {_load(meta['load_end'])}. "
        "The machine is shared with other test runs: latencies are inflated and noisy at this load, counts "
        "and ratios are not.",
        "",
        "## Targets (issues 7 and 15)",
        "",
        "| item | target | measured | |",
        "|---|---|---|---|",
    ]
    for item, target, text, met in _targets(results):
        lines.append(f"| {item} | {target} | {text} | {mark[met]} |")
    lines += [""]
    findings = _findings(results)
    if findings:
        lines += ["## What bounds the misses", "", *findings]
    lines += ["## The benchmarks", ""]
    for key, module_name, title in BENCHES:
        if key not in results:
            continue
        r = results[key]
        run_meta = meta["benches"][key]
        module = sys.modules.get(module_name)
        lines += [f"### {title}", ""]
        doc = (module.__doc__ or "").strip() if module else ""
        if doc:
            lines += [doc, ""]
        lines += [
            f"`bench/{module_name}.py`, run {run_meta.get('started', meta['started'])} UTC, {run_meta['seconds']:.0f} s, "
            "load average before / after: "
            f"{run_meta['load_before'][0]:.2f} / {run_meta['load_after'][0]:.2f}.",
            "",
        ]
        if "error" in r:
            lines += ["The bench failed:", "", "```", r["error"].strip()[-2000:], "```", ""]
        else:
            lines += [module.report(r) if module else "", ""]
    lines += [
        "## Reproduce",
        "",
        "```sh",
        "make bench                                   # all benches, rewrites this file (about 14 min)",
        ".venv/bin/python bench/run_all.py --only provider_load --output /tmp/perf.md",
        ".venv/bin/python bench/bench_get_token.py    # one bench, figures on stdout",
        "```",
        "",
        "Needs what `make test` needs (the virtualenv with the `bench` extra, npm packages, Debian's "
        "Chromium) and Debian's `wrk` (`apt-get install -y wrk`) for item 4; the hub rush uses the hub tests' "
        "JupyterHub and configurable-http-proxy (`npm ci`). Everything listens on "
        "127.0.0.1 on free ports, so a run can go beside a test run (its figures will show the load).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated keys: " + ", ".join(k for k, _, _ in BENCHES))
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--json", default="", help="also write the raw results here")
    parser.add_argument(
        "--again",
        default="",
        help="the --json file of an earlier run: rerun the --only benches, keep that run's other results",
    )
    parser.add_argument("--render", default="", help="the --json file of an earlier run: write its document only")
    args = parser.parse_args()
    if args.render:
        earlier = json.loads(Path(args.render).read_text())
        for _key, module_name, _title in BENCHES:  # their docstrings and reports
            importlib.import_module(module_name)
        Path(args.output).write_text(document(earlier["results"], earlier["meta"]))
        progress(f"wrote {os.path.relpath(args.output)} from {args.render}")
        return
    if args.again and not args.only:
        parser.error("--again needs --only: the benches to run again")
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = only - {k for k, _, _ in BENCHES}
    if unknown:
        parser.error(f"unknown bench: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    meta: dict[str, Any] = {
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": machine(),
        "load_start": load_average(),
        "benches": {},
    }
    results: dict[str, Any] = {}
    if args.again:
        earlier = json.loads(Path(args.again).read_text())
        results = {k: v for k, v in earlier["results"].items() if k not in only}
        meta["benches"] = {k: v for k, v in earlier["meta"]["benches"].items() if k not in only}
        meta["earlier"] = {key: earlier["meta"][key] for key in ("started", "commit", "dirty", "minutes")}
    for key, module_name, _title in BENCHES:
        if only and key not in only:
            continue
        progress(f"{key}: start (load {load_average()[0]:.2f})")
        before, t0 = load_average(), time.monotonic()
        at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        try:
            module = importlib.import_module(module_name)
            results[key] = module.run()
        except Exception:
            results[key] = {"error": traceback.format_exc()}
            progress(f"{key}: FAILED")
        meta["benches"][key] = {
            "seconds": time.monotonic() - t0,
            "load_before": before,
            "load_after": load_average(),
            "started": at,
            "commit": meta["commit"],
        }
        progress(f"{key}: done in {meta['benches'][key]['seconds']:.0f} s")
    meta["load_end"] = load_average()
    meta["minutes"] = (time.monotonic() - started) / 60
    text = document(results, meta)
    Path(args.output).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    print(text)
    progress(f"wrote {os.path.relpath(args.output)}")


if __name__ == "__main__":
    main()
