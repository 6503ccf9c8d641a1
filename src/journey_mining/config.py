"""One validated configuration for a run: warehouse, sources and journey definitions.

Every definition the pipeline uses (session timeout, journey window, conversion and cart
touchpoints, friction thresholds) lives here with a documented default, so two runs with
the same file compute the same thing. Unknown keys are errors, not silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
"""Source names become part of ids and file names: keep them plain identifiers."""


def _known_zone(value: str) -> str:
    """An IANA time zone name that this machine's zone database knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {value!r}") from err
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and key."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceKind(StrEnum):
    GA4 = "ga4"  # GA4 BigQuery export, NDJSON (optionally gzip) or Parquet
    EVENTS = "events"  # generic event log, CSV or Parquet, with a column mapping
    INTERCOM = "intercom"  # Intercom conversation objects, NDJSON
    CHAT_CSV = "chat_csv"  # flat chat export, CSV with a column mapping
    CONNECT = "connect"  # Amazon Connect contact trace records, NDJSON
    CALLS_CSV = "calls_csv"  # flat call-detail records, CSV with a column mapping
    CRM = "crm"  # identity table linking user id, email and phone


class SourceConfig(Strict):
    """One source: which adapter reads it, where its files are, and how to read them."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: SourceKind
    path: str = Field(description="File or glob, relative to the config file's folder.")
    format: Literal["jsonl", "parquet", "csv"] | None = Field(
        default=None, description="Inferred from the file extension when omitted."
    )
    time_zone: TimeZoneName = Field(
        default="UTC", description="Zone for timestamps written without an offset."
    )
    delimiter: Literal[",", ";", "|", "\t"] | None = Field(
        default=None, description="CSV delimiter; sniffed when omitted."
    )
    encoding: Literal["utf-8", "latin-1", "cp1252"] | None = Field(
        default=None, description="Text encoding; UTF-8 (with or without BOM) else Latin-1."
    )
    channel: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        default=None, description="Channel for sources whose rows carry none (generic logs)."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Canonical field -> column name in the file (CSV/Parquet kinds).",
    )
    lookback_days: Annotated[int, Field(ge=0, le=31)] = Field(
        default=0,
        description="With a {date:...} placeholder in path, a dated run also reads this many "
        "earlier days (exports re-delivered with late events).",
    )

    @field_validator("path")
    @classmethod
    def _plain_path(cls, value: str) -> str:
        if not value.strip() or any(ch in value for ch in "\0\n\r'\"`;"):
            raise ValueError(f"path {value!r} has characters a file path may not have here")
        return value


class WarehouseConfig(Strict):
    path: str = Field(default="out/warehouse.duckdb", description="DuckDB file.")
    memory_limit: Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(MB|GB|MiB|GiB)$")] = "4GB"
    threads: Annotated[int, Field(ge=1, le=256)] = 2
    temp_directory: str | None = Field(default=None, description="Spill folder.")


class PrivacyConfig(Strict):
    hash_key_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")] = "JOURNEY_MINING_HASH_KEY"
    demo_mode: bool = Field(
        default=False,
        description="Allow the documented demo key when the variable is unset (never in production).",
    )
    default_country_code: Annotated[str, Field(pattern=r"^\d{1,3}$")] = "1"


class PageRule(Strict):
    """Names page views: first rule whose regex matches the page path wins."""

    pattern: str
    touchpoint: Annotated[str, Field(pattern=r"^[a-z0-9_:/\\.-]+$")]

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"invalid regex {value!r}: {err}") from err
        return value


DEFAULT_PAGE_RULES = (
    PageRule(pattern=r"^/help/([a-z0-9_-]+)", touchpoint=r"web:help:\1"),
    PageRule(pattern=r"^/help/?$", touchpoint="web:help"),
    PageRule(pattern=r"^/?$", touchpoint="web:home"),
    PageRule(pattern=r"^/(category|c|collections)/", touchpoint="web:category"),
    PageRule(pattern=r"^/(product|p|products)/", touchpoint="web:product"),
    PageRule(pattern=r"^/cart", touchpoint="web:cart"),
    PageRule(pattern=r"^/checkout", touchpoint="web:checkout"),
    PageRule(pattern=r"^/(account|login|signin)", touchpoint="web:account"),
)


class WebConfig(Strict):
    page_rules: tuple[PageRule, ...] = Field(
        default=DEFAULT_PAGE_RULES,
        description="page_view events become these touchpoints; unmatched ones 'web:page_view'.",
    )


class SessionConfig(Strict):
    timeout_minutes: Annotated[float, Field(gt=0)] = Field(
        default=30, description="A gap strictly greater than this starts a new session."
    )
    channel_timeout_minutes: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Per-channel timeout, keyed by the later event's channel."
    )
    max_length_minutes: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Split sessions longer than this."
    )
    split_by_channel: bool = Field(default=False, description="Sessions never span channels.")
    use_source_session_id: bool = Field(
        default=False, description="Also split where the source's own session id changes."
    )
    collapse_repeats: bool = Field(
        default=False, description="Count consecutive identical touchpoints once in transitions."
    )
    exclude_touchpoints: tuple[str, ...] = Field(
        default=("web:session_start", "web:first_visit", "web:user_engagement", "web:scroll"),
        description="Bookkeeping events that are loaded but are not steps of a journey.",
    )


class JourneyConfig(Strict):
    inactivity_days: Annotated[float, Field(gt=0)] = Field(
        default=7, description="A journey ends after this long without activity, or at conversion."
    )


class IdentityConfig(Strict):
    max_customers_per_identifier: Annotated[int, Field(ge=1)] = Field(
        default=3,
        description="An identifier seen with more distinct other identifiers of one type than "
        "this (a shop's switchboard number, a shared test account) is not used for linking.",
    )
    max_devices_per_identifier: Annotated[int, Field(ge=1)] = Field(
        default=50,
        description="Device (anonymous) ids are counted against this limit instead: one person "
        "uses many browsers, apps and cleared cookies, so a user id seen with a few devices is normal.",
    )
    max_iterations: Annotated[int, Field(ge=1, le=1000)] = 50


class FrictionConfig(Strict):
    """Thresholds and touchpoint roles of friction detection (``journey_mining.friction``)."""

    escalation_window_minutes: Annotated[float, Field(gt=0)] = Field(
        default=60, description="A help visit followed by a contact this soon escalated."
    )
    help_touchpoint_prefix: str = Field(
        default="web:help", description="Touchpoints starting with this are help pages."
    )
    drop_off_channels: tuple[str, ...] = Field(
        default=("web", "app"),
        description="Channels tested for drop-off; contacts (a resolved chat) end sessions by nature.",
    )
    escalation_channels: tuple[str, ...] = Field(
        default=("chat", "call"), description="Contacts on these channels count as escalations."
    )
    contact_touchpoints: tuple[str, ...] = Field(
        default=("chat:started", "call:queued", "call:answered"),
        description="Touchpoints that open a support contact; one directly after another of "
        "the same channel (queued, then answered) belongs to the same contact.",
    )
    contact_transfer_touchpoints: tuple[str, ...] = Field(
        default=("call:transferred",),
        description="After these, the next contact touchpoint is the same contact's next leg.",
    )
    abandoned_contact_touchpoints: tuple[str, ...] = Field(
        default=("call:abandoned_in_queue",), description="A contact with one of these was abandoned."
    )
    repeat_contact_window_days: Annotated[float, Field(gt=0)] = Field(
        default=7, description="Another contact on the same topic this soon is a repeat."
    )
    cart_recovery_window_hours: Annotated[float, Field(gt=0)] = Field(
        default=24,
        description="An abandoned cart is recovered by a conversion on another channel this "
        "soon after the session's last touchpoint.",
    )
    long_wait_seconds: Annotated[float, Field(gt=0)] = Field(
        default=300, description="Queue or first-reply waits longer than this are long."
    )
    error_patterns: tuple[str, ...] = Field(
        default=("error", "failed"), description="Touchpoints whose name contains one are errors."
    )
    low_satisfaction_max: float = Field(default=2, description="Ratings at or below are low.")
    time_zone: TimeZoneName = Field(
        default="UTC", description="Zone of the weekday and hour breakdowns (waits, abandoned contacts)."
    )
    min_support: Annotated[int, Field(ge=1)] = Field(
        default=30, description="A finding with fewer units than this is never significant."
    )
    alpha: Annotated[float, Field(gt=0, lt=1)] = Field(
        default=0.05, description="False discovery rate (Benjamini-Hochberg, over all findings)."
    )


class ScheduleConfig(Strict):
    """When the nightly flow runs (``pipelines/serve.py``; prefect.yaml keeps its own copy)."""

    cron: Annotated[str, Field(pattern=r"^[0-9*/,\- ]+$")] = "0 3 * * *"
    time_zone: TimeZoneName = "UTC"


class AlertConfig(Strict):
    """Friction regressions against the rolling baseline of previous successful runs."""

    baseline_runs: Annotated[int, Field(ge=1, le=90)] = Field(
        default=7, description="How many previous successful runs form the baseline."
    )
    max_relative_increase: Annotated[float, Field(gt=0)] = Field(
        default=0.2, description="A rate up by more than this share of its baseline is a regression."
    )
    fail_run_on_regression: bool = Field(
        default=False, description="Fail the run (so the scheduler alerts) when a regression is found."
    )


class FunnelConfig(Strict):
    steps: tuple[str, ...] = (
        "web:product",
        "web:add_to_cart",
        "web:begin_checkout",
        "web:purchase",
    )


class SparkConfig(Strict):
    """Where and how the Spark engine runs (``engine.name: spark``; needs the ``spark`` extra)."""

    master: str = Field(
        default="local[2]",
        description="spark.master: local[N] on this machine, or a cluster URL (spark://, yarn, k8s://).",
    )
    input_path: str | None = Field(
        default=None,
        description="Folder or object-store URI holding the canonical tables as Parquet "
        "(<input_path>/touchpoints, <input_path>/identities); none exports them from the warehouse.",
    )
    output_path: str | None = Field(
        default=None,
        description="Folder or URI the marts are written to as Parquet (<output_path>/marts/<table>), "
        "read back into the warehouse by DuckDB; none is <output_dir>/spark.",
    )
    intermediate_storage: Literal["memory", "parquet"] = Field(
        default="memory",
        description="Intermediate tables kept in executor memory (spilling to disk), or written "
        "as Parquet under <output_path>/work (survives losing an executor on a cluster).",
    )
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Extra Spark settings (credentials providers, executor memory, shuffle partitions).",
    )


class EngineConfig(Strict):
    """Which engine runs stitching, sessionizing, journeys and marts; graph, friction and the
    dashboard always run on DuckDB, over the marts."""

    name: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="duckdb: inside the warehouse; spark: on a Spark session, marts copied back.",
    )
    spark: SparkConfig = SparkConfig()


class Config(Strict):
    """A whole run's configuration. ``base_dir`` is the config file's folder."""

    base_dir: Path = Field(default=Path(), exclude=True)
    warehouse: WarehouseConfig = WarehouseConfig()
    engine: EngineConfig = EngineConfig()
    output_dir: str = "out"
    privacy: PrivacyConfig = PrivacyConfig()
    sources: tuple[SourceConfig, ...] = ()
    web: WebConfig = WebConfig()
    session: SessionConfig = SessionConfig()
    journey: JourneyConfig = JourneyConfig()
    identity: IdentityConfig = IdentityConfig()
    conversion_touchpoints: tuple[str, ...] = ("web:purchase", "call:order_placed")
    cart_touchpoints: tuple[str, ...] = ("web:add_to_cart",)
    checkout_touchpoints: tuple[str, ...] = ("web:begin_checkout",)
    funnel: FunnelConfig = FunnelConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    alerts: AlertConfig = AlertConfig()
    friction: FrictionConfig = FrictionConfig()

    @model_validator(mode="after")
    def _unique_source_names(self) -> Config:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique, repeated: {', '.join(dupes)}")
        return self

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(path)
        return (candidate if candidate.is_absolute() else self.base_dir / candidate).resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    @property
    def output_path(self) -> Path:
        return self.resolve(self.output_dir)

    def fingerprint(self) -> str:
        """Hash of the effective definitions: recorded with each run for reproducibility."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def _format_errors(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"  {key}: {item['msg']}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], *, base_dir: Path, origin: str = "<config>") -> Config:
    """Validate a config mapping; errors name the origin and each offending key."""
    try:
        return Config.model_validate({**data, "base_dir": base_dir})
    except ValidationError as err:
        raise ConfigError(f"invalid configuration in {origin}:\n{_format_errors(err)}") from None


def load_config(path: Path | str) -> Config:
    """Read and validate a YAML config file."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config file {config_path}: {err.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {config_path} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {config_path} must hold a mapping at the top level")
    return parse_config(data, base_dir=config_path.resolve().parent, origin=str(config_path))
