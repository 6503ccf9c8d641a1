"""Seeded sample data: realistic exports with known, planted customer friction.

The public names are imported lazily so that ``python -m journey_mining.generate.sample``
does not import its own module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from journey_mining.generate.sample import SampleManifest, generate_sample

__all__ = ["SampleManifest", "generate_sample"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from journey_mining.generate import sample

        return getattr(sample, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
