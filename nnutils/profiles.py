"""Run profiles: ``full`` (the reports' reference setup) and ``ci`` (small and quick, for tests)."""

from __future__ import annotations

import os
from types import SimpleNamespace

PROFILES = ("full", "ci")
ENV_VAR = "NNUTILS_PROFILE"


def resolve_profile(profile: str) -> str:
    """The profile to run: ``NNUTILS_PROFILE`` if set (test runs), else the notebook's parameter."""
    chosen = os.environ.get(ENV_VAR) or profile
    if chosen not in PROFILES:
        source = f"the environment variable {ENV_VAR}" if os.environ.get(ENV_VAR) else "the parameter 'profile'"
        raise ValueError(f"Unknown profile {chosen!r} (from {source}): choose one of {', '.join(PROFILES)}.")
    return chosen


def settings(profile: str, full: dict, ci: dict) -> SimpleNamespace:
    """The settings of the chosen profile as attributes; ``ci`` overrides only the keys it names."""
    profile = resolve_profile(profile)
    unknown = set(ci) - set(full)
    if unknown:
        raise ValueError(f"ci settings {sorted(unknown)} have no full-profile value.")
    chosen = dict(full, **ci) if profile == "ci" else dict(full)
    return SimpleNamespace(profile=profile, **chosen)
