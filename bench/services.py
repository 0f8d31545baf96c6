"""The service benchmarks: `python -m bench api|import|feed|explain|drivers [options]` (see each module's docstring)."""

from __future__ import annotations

import argparse

SERVICE_BENCHES = ("api", "import", "feed", "explain", "drivers")


def run_service_bench(argv: list[str]) -> int:
    from bench import api_load, driver_compare, explain, feed_bench, import_bench

    modules = {
        "api": api_load,
        "import": import_bench,
        "feed": feed_bench,
        "explain": explain,
        "drivers": driver_compare,
    }
    ap = argparse.ArgumentParser(prog="python -m bench")
    sub = ap.add_subparsers(dest="bench", required=True)
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0]))
    args = ap.parse_args(argv)
    return int(modules[args.bench].main(args))
