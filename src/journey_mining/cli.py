"""The ``journey-mining`` command: errors are one clear line unless ``--debug``."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from journey_mining.config import load_config
from journey_mining.ingest.loader import LoadReport
from journey_mining.pipeline import run_pipeline

SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "data" / "sample" / "config.yaml"


def format_load_report(report: LoadReport) -> str:
    """Per-source counts: rows read = loaded + duplicate + rejected."""
    header = (
        f"{'source':<10} {'files':>5} {'skipped':>7} {'read':>8} {'loaded':>8} "
        f"{'dup':>6} {'rejected':>8} {'touchpoints':>11}"
    )
    lines = [header, "-" * len(header)]
    for source, t in report.by_source().items():
        lines.append(
            f"{source:<10} {t['files']:>5} {t['skipped']:>7} {t['read']:>8} {t['loaded']:>8} "
            f"{t['duplicate']:>6} {t['rejected']:>8} {t['touchpoints']:>11}"
        )
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    summary = run_pipeline(config)
    print(f"config {args.config} (fingerprint {summary.config_fingerprint})")
    print(format_load_report(summary.load))
    for table, count in summary.tables.items():
        print(f"  {table}: {count} rows")
    for name, path in summary.outputs.items():
        print(f"{name}: {path}")
    print(f"warehouse: {config.warehouse_path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    args.config = SAMPLE_CONFIG
    return _cmd_run(args)


def _cmd_validate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"{args.config}: valid ({len(config.sources)} sources, fingerprint {config.fingerprint()})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey-mining", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline on a config")
    run.add_argument("config", type=Path)
    run.set_defaults(func=_cmd_run)
    demo = sub.add_parser("demo", help="run the pipeline on the bundled sample data")
    demo.set_defaults(func=_cmd_demo)
    validate = sub.add_parser("validate-config", help="check a config file")
    validate.add_argument("config", type=Path)
    validate.set_defaults(func=_cmd_validate)
    return parser


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
        first = str(err).strip() or type(err).__name__
        print(f"journey-mining: error: {first}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
