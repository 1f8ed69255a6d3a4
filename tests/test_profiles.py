"""The one profile rule: NNUTILS_PROFILE, when set, wins over the notebook's parameter; unknown names are refused
with where they came from."""

from __future__ import annotations

import pytest

from nnutils.profiles import PROFILES, resolve_profile, settings


def test_the_parameter_runs_unless_the_environment_variable_is_set(monkeypatch):
    monkeypatch.delenv("NNUTILS_PROFILE", raising=False)
    assert resolve_profile("full") == "full" and resolve_profile("ci") == "ci"
    monkeypatch.setenv("NNUTILS_PROFILE", "ci")
    assert resolve_profile("full") == "ci"
    monkeypatch.setenv("NNUTILS_PROFILE", "")  # empty counts as unset
    assert resolve_profile("full") == "full"


def test_unknown_profiles_name_their_source(monkeypatch):
    monkeypatch.setenv("NNUTILS_PROFILE", "bogus")
    with pytest.raises(ValueError, match=r"'bogus' \(from the environment variable NNUTILS_PROFILE\).*unset"):
        resolve_profile("full")
    monkeypatch.delenv("NNUTILS_PROFILE")
    with pytest.raises(ValueError, match=r"'fast' \(from the parameter 'profile'\): choose one of full, ci\.$"):
        resolve_profile("fast")
    assert PROFILES == ("full", "ci")


def test_settings_record_the_profile_that_runs_and_ci_overrides_only_its_keys(monkeypatch):
    monkeypatch.setenv("NNUTILS_PROFILE", "ci")
    cfg = settings("full", full=dict(epochs=10, n=None), ci=dict(epochs=2))
    assert (cfg.profile, cfg.epochs, cfg.n) == ("ci", 2, None)
    monkeypatch.delenv("NNUTILS_PROFILE")
    assert settings("full", full=dict(epochs=10), ci=dict(epochs=2)).epochs == 10
    with pytest.raises(ValueError, match="no full-profile value"):
        settings("ci", full=dict(epochs=10), ci=dict(lr=0.1))
