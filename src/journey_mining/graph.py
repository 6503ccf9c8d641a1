"""The transition graph of touchpoints, and what it says about conversion.

Built from the aggregated transition tables (never from raw events): nodes are
touchpoints plus ``(start)`` and ``(exit)``, edges carry counts, the share of the source
node's out-transitions (``probability``), distinct customers and time between steps.

Conversion probability treats the graph as an absorbing Markov chain: conversion
touchpoints and ``(exit)`` absorb, and the chance that a customer standing at a touchpoint
eventually converts solves ``(I - Q) p = r`` (Q: transient-to-transient probabilities,
r: one-step probability into a conversion). The *removal effect* of a touchpoint (or a
group of them: a channel, a friction state) is the relative drop in the conversion
probability from ``(start)`` when the chain can no longer pass through it: transitions
into it go to ``(exit)`` instead, as in Markov-chain attribution.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

START = "(start)"
EXIT = "(exit)"


def channel_of(touchpoint: str) -> str:
    """``web:add_to_cart`` -> ``web``; the virtual nodes have no channel."""
    return touchpoint.split(":", 1)[0] if ":" in touchpoint else ""


def build_graph(transitions: pd.DataFrame, touchpoint_stats: pd.DataFrame | None = None) -> nx.DiGraph:
    """A DiGraph from a transitions table (from_touchpoint, to_touchpoint, transitions, ...)."""
    graph = nx.DiGraph()
    totals = transitions.groupby("from_touchpoint")["transitions"].sum()
    for row in transitions.itertuples(index=False):
        source, target = str(row.from_touchpoint), str(row.to_touchpoint)
        attrs = {
            "transitions": int(row.transitions),
            "probability": float(row.transitions) / float(totals[source]),
        }
        for optional in ("customers", "median_seconds", "p90_seconds"):
            if hasattr(row, optional):
                value = getattr(row, optional)
                attrs[optional] = None if pd.isna(value) else float(value)
        graph.add_edge(source, target, **attrs)
    for node in graph.nodes:
        graph.nodes[node]["channel"] = channel_of(node)
    if touchpoint_stats is not None:
        for row in touchpoint_stats.itertuples(index=False):
            node = str(row.touchpoint)
            if node not in graph:
                graph.add_node(node, channel=channel_of(node))
            for column in ("occurrences", "sessions", "exits", "exit_rate"):
                if hasattr(row, column):
                    value = getattr(row, column)
                    graph.nodes[node][column] = None if pd.isna(value) else float(value)
    return graph


def conversion_probabilities(graph: nx.DiGraph, conversions: Iterable[str]) -> dict[str, float]:
    """P(eventually reaching a conversion) from every node, solving the absorbing chain."""
    absorbing = {node for node in conversions if node in graph} | {EXIT}
    transient = sorted(node for node in graph.nodes if node not in absorbing)
    index = {node: i for i, node in enumerate(transient)}
    size = len(transient)
    q = np.zeros((size, size))
    r = np.zeros(size)
    for source in transient:
        out = graph.out_edges(source, data="probability")
        for _, target, prob in out:
            if target in index:
                q[index[source], index[target]] += prob
            elif target in absorbing and target != EXIT:
                r[index[source]] += prob
    # nodes with no way out (dead ends) simply never convert: rows of zeros keep I - Q regular
    solution = np.linalg.solve(np.eye(size) - q, r) if size else np.zeros(0)
    result = {node: float(solution[index[node]]) for node in transient}
    result.update({node: 1.0 for node in absorbing if node != EXIT})
    result[EXIT] = 0.0
    return result


def remove_nodes(graph: nx.DiGraph, removed: Iterable[str]) -> nx.DiGraph:
    """The chain without ``removed``: their incoming probability flows to ``(exit)``."""
    gone = set(removed)
    reduced = nx.DiGraph()
    reduced.add_nodes_from(n for n in graph.nodes if n not in gone)
    reduced.add_node(EXIT)
    for source, target, prob in graph.edges(data="probability"):
        if source in gone:
            continue
        destination = EXIT if target in gone else target
        previous = reduced.get_edge_data(source, destination, {"probability": 0.0})["probability"]
        reduced.add_edge(source, destination, probability=previous + prob)
    return reduced


def removal_effects(
    graph: nx.DiGraph, conversions: Iterable[str], groups: Mapping[str, Iterable[str]]
) -> pd.DataFrame:
    """Relative drop of P(convert | start) when each group of nodes is removed."""
    conversion_set = set(conversions)
    base = conversion_probabilities(graph, conversion_set).get(START, 0.0)
    rows = []
    for name, members in groups.items():
        reduced = remove_nodes(graph, members)
        removed_p = conversion_probabilities(reduced, conversion_set - set(members)).get(START, 0.0)
        effect = (base - removed_p) / base if base > 0 else 0.0
        rows.append({"removed": name, "conversion_without": removed_p, "removal_effect": effect})
    frame = pd.DataFrame(rows, columns=["removed", "conversion_without", "removal_effect"])
    frame["baseline_conversion"] = base
    return frame.sort_values(["removal_effect", "removed"], ascending=[False, True], ignore_index=True)


def moments_of_truth(graph: nx.DiGraph, conversions: Iterable[str], top: int = 10) -> pd.DataFrame:
    """Edges where the conversion probability changes most between source and target."""
    conversion_set = set(conversions)
    probability = conversion_probabilities(graph, conversion_set)
    rows = [
        {
            "from_touchpoint": source,
            "to_touchpoint": target,
            "transitions": data["transitions"],
            "p_from": probability[source],
            "p_to": probability.get(target, 0.0),
            "change": probability.get(target, 0.0) - probability[source],
        }
        for source, target, data in graph.edges(data=True)
        if source != START and source not in conversion_set and "transitions" in data
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["weighted_change"] = frame["change"].abs() * frame["transitions"]
    return frame.sort_values(["weighted_change", "from_touchpoint"], ascending=[False, True]).head(top)


def export_graph(graph: nx.DiGraph, path: Path) -> Path:
    """GraphML for ``.graphml`` paths, node-link JSON otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = nx.DiGraph()
    for node, data in graph.nodes(data=True):
        clean.add_node(node, **{k: v for k, v in data.items() if v is not None})
    for source, target, data in graph.edges(data=True):
        clean.add_edge(source, target, **{k: v for k, v in data.items() if v is not None})
    if path.suffix == ".graphml":
        nx.write_graphml(clean, path)
    else:
        path.write_text(json.dumps(nx.node_link_data(clean, edges="links"), indent=1, sort_keys=True))
    return path
