"""The ``journey-mining`` command: errors are one clear line unless ``--debug``."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from journey_mining.config import load_config
from journey_mining.pipeline import RunSummary, dashboard_step, new_run_id, run_pipeline
from journey_mining.report import format_source_counts, summary_markdown
from journey_mining.runs import run_lock

SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "data" / "sample" / "config.yaml"


def _progress(step: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {step} ...", file=sys.stderr, flush=True)


def _print_summary(config_path: Path, summary: RunSummary) -> None:
    print(f"run {summary.run_id} (config {config_path}, fingerprint {summary.config_fingerprint})")
    print()
    print(format_source_counts(summary.load.by_source()))
    print()
    marts = (f"{t}={n}" for t, n in summary.tables.items() if not t.startswith(("cfg_", "int_")))
    print(f"tables: {', '.join(marts)}")
    print()
    print(summary_markdown(summary.run_id, summary.headline, summary.top_friction))
    print()
    for name, path in summary.outputs.items():
        print(f"{name}: {path}")


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    summary = run_pipeline(config, run_date=args.run_date, wait_seconds=args.wait, progress=_progress)
    _print_summary(args.config, summary)
    print(f"warehouse: {config.warehouse_path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    args.config = SAMPLE_CONFIG
    args.run_date = None
    return _cmd_run(args)


def _cmd_backfill(args: argparse.Namespace) -> int:
    if args.end < args.start:
        raise ValueError(f"--end {args.end} is before --start {args.start}")
    config = load_config(args.config)
    day = args.start
    while day <= args.end:
        _progress(f"backfill {day}")
        summary = run_pipeline(config, run_date=day, wait_seconds=args.wait, progress=_progress)
        print(f"{day}: run {summary.run_id}, dashboard {summary.outputs.get('dashboard')}")
        day += timedelta(days=1)
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with run_lock(config, wait_seconds=args.wait):
        path = dashboard_step(config, new_run_id(config, None))
    print(f"dashboard: {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"{args.config}: valid ({len(config.sources)} sources, fingerprint {config.fingerprint()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey-mining", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_wait(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
        command.add_argument(
            "--wait", type=float, default=0.0, help="seconds to wait for another run on the warehouse"
        )
        return command

    run = with_wait(sub.add_parser("run", help="run the whole pipeline on a config"))
    run.add_argument("config", type=Path)
    run.add_argument("--run-date", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    run.set_defaults(func=_cmd_run)
    demo = with_wait(sub.add_parser("demo", help="run the pipeline on the bundled sample data"))
    demo.set_defaults(func=_cmd_demo)
    backfill = with_wait(sub.add_parser("backfill", help="run each day of a date range"))
    backfill.add_argument("config", type=Path)
    backfill.add_argument("--start", type=date.fromisoformat, required=True)
    backfill.add_argument("--end", type=date.fromisoformat, required=True)
    backfill.set_defaults(func=_cmd_backfill)
    dashboard = with_wait(sub.add_parser("dashboard", help="rewrite the dashboard from the warehouse"))
    dashboard.add_argument("config", type=Path)
    dashboard.set_defaults(func=_cmd_dashboard)
    validate = sub.add_parser("validate-config", help="check a config file")
    validate.add_argument("config", type=Path)
    validate.set_defaults(func=_cmd_validate)
    return parser


def one_line(err: BaseException) -> str:
    """An error as one line: a multi-line message (a config error lists each key on its own
    line, a load error each file) joined with '; '."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    head, rest = lines[0], lines[1:]
    return f"{head} {'; '.join(rest)}" if head.endswith(":") and rest else "; ".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("journey-mining: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        print(f"journey-mining: error: {one_line(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
