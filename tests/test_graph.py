from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from journey_mining.graph import (
    EXIT,
    START,
    build_graph,
    conversion_probabilities,
    export_graph,
    moments_of_truth,
    removal_effects,
)

# start -> A (2/3) | B (1/3); A -> B 0.5 | exit 0.5; B -> purchase 0.4 | A 0.2 | exit 0.4
# Solved by hand: p(A) = 0.5 p(B), p(B) = 0.4 + 0.2 p(A)  =>  p(A) = 2/9, p(B) = 4/9,
# p(start) = 2/3 * 2/9 + 1/3 * 4/9 = 8/27.
TRANSITIONS = pd.DataFrame(
    [
        (START, "A", 100, 90, 0.0, 0.0),
        (START, "B", 50, 50, 0.0, 0.0),
        ("A", "B", 61, 40, 30.0, 90.0),
        ("A", EXIT, 61, 50, None, None),
        ("B", "web:purchase", 44, 44, 120.0, 300.0),
        ("B", "A", 22, 20, 10.0, 20.0),
        ("B", EXIT, 44, 40, None, None),
        ("web:purchase", EXIT, 44, 44, None, None),
    ],
    columns=["from_touchpoint", "to_touchpoint", "transitions", "customers", "median_seconds", "p90_seconds"],
)
STATS = pd.DataFrame(
    [("A", 122, 110, 61, 0.5), ("B", 110, 100, 44, 0.4), ("web:purchase", 44, 44, 44, 1.0)],
    columns=["touchpoint", "occurrences", "sessions", "exits", "exit_rate"],
)


@pytest.fixture
def graph() -> nx.DiGraph:
    return build_graph(TRANSITIONS, STATS)


def test_edge_and_node_attributes(graph: nx.DiGraph) -> None:
    edge = graph.edges["A", "B"]
    assert edge["transitions"] == 61
    assert edge["probability"] == pytest.approx(0.5)
    assert edge["customers"] == 40
    assert edge["median_seconds"] == 30.0
    assert graph.edges[START, "A"]["probability"] == pytest.approx(2 / 3)
    assert graph.nodes["B"]["exits"] == 44
    assert graph.nodes["web:purchase"]["channel"] == "web"
    assert graph.edges["A", EXIT]["median_seconds"] is None


def test_conversion_probabilities_match_hand_solution(graph: nx.DiGraph) -> None:
    p = conversion_probabilities(graph, ["web:purchase"])
    assert p["A"] == pytest.approx(2 / 9)
    assert p["B"] == pytest.approx(4 / 9)
    assert p[START] == pytest.approx(8 / 27)
    assert p["web:purchase"] == 1.0
    assert p[EXIT] == 0.0


def test_removal_effects(graph: nx.DiGraph) -> None:
    effects = removal_effects(graph, ["web:purchase"], {"A": ["A"], "B": ["B"]}).set_index("removed")
    # without A: p(B) = 0.4, p(start) = 1/3 * 0.4 = 2/15  =>  effect = 1 - (2/15) / (8/27) = 0.55
    assert effects.loc["A", "removal_effect"] == pytest.approx(0.55)
    assert effects.loc["B", "removal_effect"] == pytest.approx(1.0)
    assert effects.loc["A", "baseline_conversion"] == pytest.approx(8 / 27)


def test_moments_of_truth_rank_by_weighted_change(graph: nx.DiGraph) -> None:
    top = moments_of_truth(graph, ["web:purchase"], top=2)
    assert list(zip(top["from_touchpoint"], top["to_touchpoint"], strict=True)) == [
        ("B", "web:purchase"),  # (1 - 4/9) * 44 = 24.4
        ("B", EXIT),  # (4/9) * 44 = 19.6
    ]


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_export_round_trips(graph: nx.DiGraph, tmp_path: Path, suffix: str) -> None:
    path = export_graph(graph, tmp_path / f"graph{suffix}")
    if suffix == ".graphml":
        loaded = nx.read_graphml(path)
        assert loaded.edges["A", "B"]["transitions"] == 61
    else:
        assert '"transitions": 61' in path.read_text()
