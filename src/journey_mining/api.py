"""The analyst's entry point: one object over a built warehouse, answers as DataFrames.

    >>> import journey_mining as jm
    >>> jm.run("data/sample/config.yaml")            # build (or refresh) the warehouse
    >>> a = jm.open("data/sample/config.yaml")       # then explore it
    >>> a.funnel(segment="device")                   # doctest: +SKIP
    >>> a.compare("device", "mobile", "desktop")     # doctest: +SKIP

Every method takes the same optional filters (``start``, ``end``, ``channel``,
``segment``/``value``) and computes in DuckDB (on Spark when the warehouse's marts come
from a Spark build: the same queries, over its Parquet marts); only aggregates come back.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import networkx as nx
import pandas as pd

from journey_mining import graph as graphs
from journey_mining import transitions as agg
from journey_mining.builds import latest_build
from journey_mining.config import Config, load_config
from journey_mining.funnel import funnel as funnel_counts
from journey_mining.pipeline import RunSummary, run_pipeline
from journey_mining.segments import Filter, Level
from journey_mining.warehouse import connect


def run(config: Config | str | Path, **options: Any) -> RunSummary:
    """Run the whole pipeline (load, journeys, friction, dashboard) on a config."""
    cfg = config if isinstance(config, Config) else load_config(config)
    return run_pipeline(cfg, **options)


def open(config: Config | str | Path) -> Analysis:
    """Open the warehouse a config points at, read-only, for analysis."""
    cfg = config if isinstance(config, Config) else load_config(config)
    return Analysis(cfg)


class Analysis:
    """Sessions, journeys, paths, graphs, funnels, friction and Sankey maps of one warehouse."""

    def __init__(self, config: Config) -> None:
        self.config = config
        if not config.warehouse_path.exists():
            raise FileNotFoundError(
                f"no warehouse at {config.warehouse_path}; build it first with journey_mining.run(config)"
            )
        self._open = ExitStack()
        self.con: Any = self._open.enter_context(connect(config.warehouse_path, read_only=True))
        latest = latest_build(self.con)
        if latest is not None and latest[0] == "spark":  # its per-row marts stay with Spark
            from journey_mining.scale_out import spark_marts

            self._open.close()
            self.con = self._open.enter_context(spark_marts(config, task="analysis"))

    def close(self) -> None:
        self._open.close()

    def __enter__(self) -> Analysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- filters -------------------------------------------------------------------------
    @staticmethod
    def _filter(
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        channel: str | None = None,
        segment: str | None = None,
        value: str | None = None,
    ) -> Filter:
        def as_time(v: datetime | str | None) -> datetime | None:
            return datetime.fromisoformat(v) if isinstance(v, str) else v

        return Filter(as_time(start), as_time(end), channel, segment, value)

    # -- tables --------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Headline numbers of the warehouse."""
        from journey_mining.headline import headline_numbers

        return headline_numbers(self.con)

    def sessions(self, **filters: Any) -> pd.DataFrame:
        """One row per session (see the ``sessions`` mart), filtered."""
        return self._units("sessions", "session", **filters)

    def journeys(self, **filters: Any) -> pd.DataFrame:
        """One row per journey (see the ``journeys`` mart), filtered."""
        return self._units("journeys", "journey", **filters)

    def _units(self, table: str, level: Level, **filters: Any) -> pd.DataFrame:
        from journey_mining.segments import units_sql

        units, params = units_sql(level, self._filter(**filters), None)
        key = f"{level}_id"
        return self.con.execute(
            f"select t.* from {table} t where t.{key} in (select unit_id from ({units})) order by t.{key}",
            params,
        ).df()

    def paths(self, level: Level = "session", top: int = 20, **filters: Any) -> pd.DataFrame:
        """Most frequent touchpoint sequences with counts, share and conversion rate."""
        return agg.top_paths(self.con, level=level, top=top, where=self._filter(**filters))

    def transitions(self, level: Level = "session", **filters: Any) -> pd.DataFrame:
        return agg.transitions(self.con, level=level, where=self._filter(**filters))

    # -- graph ---------------------------------------------------------------------------
    def graph(self, level: Level = "session", **filters: Any) -> nx.DiGraph:
        """The transition graph (NetworkX) of the filtered sessions or journeys."""
        flt = self._filter(**filters)
        return graphs.build_graph(
            agg.transitions(self.con, level=level, where=flt),
            agg.touchpoint_stats(self.con, level=level, where=flt),
        )

    def conversion_probabilities(self, level: Level = "journey", **filters: Any) -> pd.Series:
        """P(eventually converting) from each touchpoint (absorbing Markov chain)."""
        p = graphs.conversion_probabilities(self.graph(level, **filters), self.config.conversion_touchpoints)
        return pd.Series(p, name="conversion_probability").sort_values(ascending=False)

    def removal_effects(
        self, by: str = "touchpoint", level: Level = "journey", **filters: Any
    ) -> pd.DataFrame:
        """Markov removal effect of each touchpoint (``by='touchpoint'``) or channel."""
        g = self.graph(level, **filters)
        nodes = [n for n in g.nodes if n not in (graphs.START, graphs.EXIT)]
        conversions = set(self.config.conversion_touchpoints)
        if by == "channel":
            groups: dict[str, list[str]] = {}
            for n in nodes:
                if n not in conversions:
                    groups.setdefault(graphs.channel_of(n), []).append(n)
        else:
            groups = {n: [n] for n in nodes if n not in conversions}
        return graphs.removal_effects(g, conversions, groups)

    # -- funnels, friction, maps ---------------------------------------------------------
    def funnel(
        self, steps: list[str] | None = None, level: Level = "session", by: str | None = None, **filters: Any
    ) -> pd.DataFrame:
        """Ordered funnel (default: the config's ``funnel.steps``), optionally broken down ``by``."""
        return funnel_counts(
            self.con,
            steps or list(self.config.funnel.steps),
            level=level,
            segment=by,
            where=self._filter(**filters),
        )

    def friction(self, kind: str | None = None, significant_only: bool = True) -> pd.DataFrame:
        """Friction findings ranked by estimated conversions lost."""
        clauses, params = [], []
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        if significant_only:
            clauses.append("significant")
        where = f"where {' and '.join(clauses)}" if clauses else ""
        return self.con.execute(f"select * from friction {where} order by rank", params).df()

    def sankey(self, **options: Any) -> Any:
        """The path-true Sankey map as a Plotly figure (options as ``viz.sankey.sankey_data``)."""
        from journey_mining.viz.sankey import sankey_data, sankey_figure

        friction = self.friction(significant_only=True)
        return sankey_figure(sankey_data(self.con, **options), friction)

    # -- comparisons ---------------------------------------------------------------------
    def compare(self, segment: str, a: str, b: str, level: Level = "session") -> pd.DataFrame:
        """Two segment values side by side: funnel step rates and top paths, with differences."""
        left = self.funnel(level=level, segment=segment, value=a)
        right = self.funnel(level=level, segment=segment, value=b)
        merged = left[["step_number", "touchpoint", "reached", "rate_from_first"]].merge(
            right[["step_number", "reached", "rate_from_first"]],
            on="step_number",
            suffixes=(f"_{a}", f"_{b}"),
        )
        merged["difference"] = merged[f"rate_from_first_{a}"] - merged[f"rate_from_first_{b}"]
        return merged

    def __repr__(self) -> str:
        try:
            s = self.summary()
        except duckdb.Error:
            return f"<Analysis of {self.config.warehouse_path} (not built)>"
        rate = s.get("conversion_rate")
        conversion = "n/a" if rate is None else f"{100 * rate:.1f}%"
        return (
            f"<Analysis of {self.config.warehouse_path}: {s['customers']:,} customers, "
            f"{s['sessions']:,} sessions, {s['journeys']:,} journeys, conversion "
            f"{conversion}, period {s['period_start']} .. {s['period_end']}>"
        )
