"""Run profiles: ``full`` (the reports' reference setup) and ``ci`` (small and quick, for tests).

The one rule: a notebook runs the profile of its ``profile`` parameter, unless ``NNUTILS_PROFILE`` is set, which
wins (a notebook run by hand, by papermill or by nbval). The book build sets ``NNUTILS_PROFILE`` for its kernels
itself, to the profile it was asked for, and checks the profile each chapter recorded (``nnutils.results``).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

PROFILES = ("full", "ci")
ENV_VAR = "NNUTILS_PROFILE"


def resolve_profile(profile: str) -> str:
    """The profile to run: ``NNUTILS_PROFILE`` if set, else the notebook's parameter."""
    from_env = os.environ.get(ENV_VAR)
    chosen = from_env or profile
    if chosen not in PROFILES:
        source = f"the environment variable {ENV_VAR}" if from_env else "the parameter 'profile'"
        hint = f", or unset {ENV_VAR}" if from_env else ""
        raise ValueError(f"Unknown profile {chosen!r} (from {source}): choose one of {', '.join(PROFILES)}{hint}.")
    return chosen


def settings(profile: str, full: dict, ci: dict) -> SimpleNamespace:
    """The settings of the chosen profile as attributes (``.profile`` is the one that runs, to record); ``ci``
    overrides only the keys it names."""
    profile = resolve_profile(profile)
    unknown = set(ci) - set(full)
    if unknown:
        raise ValueError(f"ci settings {sorted(unknown)} have no full-profile value.")
    chosen = dict(full, **ci) if profile == "ci" else dict(full)
    return SimpleNamespace(profile=profile, **chosen)
