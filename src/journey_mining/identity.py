"""Identity stitching: identifiers seen together become one customer, in SQL.

Every pair of identifiers on one row (a web login's cookie and user id, a chat's user id
and email, a CRM row's user id, email and phone) is a link; each connected group of
identifiers is one ``customer_key``. Groups are found by label propagation with pointer
jumping: each identifier takes the smallest label among itself and its neighbours, then
the label of its label, and the SQL step repeats until no label changes. The work stays
in the engine (a few joins per round), so it scales with DuckDB or Spark, not with Python.

An identifier seen with too many distinct others (a shop's switchboard number, a shared
test account) is a super-node: it would merge unrelated customers, so its links are not
used, and it is listed in ``identity_super_nodes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from journey_mining.config import Config
from journey_mining.engines import Engine, as_engine, rows, scalar
from journey_mining.parameters import write_parameter_tables
from journey_mining.sqlmodels import Model, discover, materialise, sql_root

BEFORE_PROPAGATION = (
    "int_identifier_pairs__extracted",
    "int_identifiers__profiled",
    "int_identity_edges__filtered",
    "int_identity_labels__seeded",
)
AFTER_PROPAGATION = ("int_identifiers__stitched",)
LABELS_TABLE = "int_identity_labels"
"""The propagation state: (node_id, label), rewritten each round."""
STEP_MODEL = "int_identity_labels__propagated"
"""One round of propagation: ``sql/intermediate/steps/<STEP_MODEL>.sql``."""


class IdentityStitchError(RuntimeError):
    """Label propagation did not settle within ``identity.max_iterations`` rounds."""


@dataclass(frozen=True)
class IdentityGroup:
    customer_key: str
    identifiers: int
    anonymous_ids: int
    user_ids: int
    emails: int
    phones: int


@dataclass(frozen=True)
class SuperNode:
    identifier_type: str
    identifier: str
    partners: int  # the most distinct identifiers of one type it was seen with


@dataclass(frozen=True)
class StitchReport:
    """What stitching did: rounds, sizes, super-nodes left out, the largest groups."""

    iterations: int
    identifiers: int
    linked_identifiers: int
    customers: int
    super_nodes: int
    top_super_nodes: tuple[SuperNode, ...]
    largest_groups: tuple[IdentityGroup, ...]
    tables: dict[str, int]  # rows per table built during stitching


def stitch_identities(
    target: duckdb.DuckDBPyConnection | Engine, config: Config, *, report_size: int = 10
) -> StitchReport:
    """Build ``int_identifiers__stitched`` (identifier -> customer_key) and report on it."""
    engine = as_engine(target)
    write_parameter_tables(engine, config)
    models = {model.name: model for model in discover(("intermediate",))}
    tables = {name: materialise(engine, models[name]) for name in BEFORE_PROPAGATION}
    iterations = _propagate(engine, config.identity.max_iterations)
    tables[LABELS_TABLE] = scalar(engine, f"select count(*) from {LABELS_TABLE}")
    tables |= {name: materialise(engine, models[name]) for name in AFTER_PROPAGATION}
    return StitchReport(
        iterations=iterations,
        identifiers=tables["int_identifiers__stitched"],
        linked_identifiers=tables[LABELS_TABLE],
        customers=scalar(engine, "select count(distinct customer_key) from int_identifiers__stitched"),
        super_nodes=scalar(engine, "select count(*) from int_identifiers__profiled where is_super_node"),
        top_super_nodes=_top_super_nodes(engine, report_size),
        largest_groups=_largest_groups(engine, report_size),
        tables=tables,
    )


def step_model() -> Model:
    """The SQL of one propagation round."""
    path = sql_root() / "intermediate" / "steps" / f"{STEP_MODEL}.sql"
    return Model(STEP_MODEL, "intermediate", path)


def _propagate(engine: Engine, max_iterations: int) -> int:
    """Run propagation rounds until no label changes; returns the rounds run."""
    step = step_model()
    engine.materialise(LABELS_TABLE, "select * from int_identity_labels__seeded", temporary=True)
    for iteration in range(1, max_iterations + 1):
        engine.materialise(STEP_MODEL, step.sql, temporary=True)
        changed = scalar(engine, f"select count(*) from {STEP_MODEL} where changed")
        engine.rename(STEP_MODEL, LABELS_TABLE)
        if changed == 0:
            return iteration
    raise IdentityStitchError(
        f"identity labels still changing after {max_iterations} rounds "
        "(identity.max_iterations); raise it or check identity_groups for a missed super-node"
    )


def _top_super_nodes(engine: Engine, limit: int) -> tuple[SuperNode, ...]:
    found = rows(
        engine,
        f"""
        select identifier_type, identifier,
            greatest(anonymous_id_partners, user_id_partners, email_partners, phone_partners)
                as partners
        from int_identifiers__profiled
        where is_super_node
        order by partners desc, identifier_type, identifier
        limit {int(limit)}
        """,
    )
    return tuple(SuperNode(str(t), str(i), int(p)) for t, i, p in found)


def _largest_groups(engine: Engine, limit: int) -> tuple[IdentityGroup, ...]:
    found = rows(
        engine,
        f"""
        select
            customer_key,
            count(*) as identifiers,
            count(*) filter (where identifier_type = 'anonymous_id') as anonymous_ids,
            count(*) filter (where identifier_type = 'user_id_hash') as user_ids,
            count(*) filter (where identifier_type = 'email_hash') as emails,
            count(*) filter (where identifier_type = 'phone_hash') as phones
        from int_identifiers__stitched
        group by customer_key
        order by identifiers desc, customer_key
        limit {int(limit)}
        """,
    )
    return tuple(IdentityGroup(str(row[0]), *(int(v) for v in row[1:])) for row in found)
