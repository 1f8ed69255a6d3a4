"""The first step of `make test`: a browser is found (or fetched) before the long run, a missing one fails at once
in CI and is skipped elsewhere with one line saying how to get it."""

from __future__ import annotations

from nnutils.book import browser


def test_the_browser_named_comes_first(monkeypatch, tmp_path):
    named = tmp_path / "my-chromium"
    named.write_text("")
    monkeypatch.setenv("NNUTILS_CHROMIUM", str(named))
    assert browser.find_chromium() == str(named)


def test_a_missing_browser_is_fetched_else_skipped_with_how_to_get_it_or_fails_in_ci(monkeypatch, capsys):
    installs = []
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    monkeypatch.setattr(browser, "install_chromium", lambda: installs.append(1) or False)
    monkeypatch.delenv("NNUTILS_BROWSER_TEST", raising=False)
    monkeypatch.setenv("CI", "false")
    assert browser.main([]) == 0 and installs == [1]
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "will be skipped; to run it: apt-get install chromium" in out
    monkeypatch.setenv("CI", "true")
    assert browser.main(["--no-install"]) == 1 and installs == [1]
    err = capsys.readouterr().err
    assert "no Chromium, and CI=true" in err and "playwright install chromium" in err
    found = iter([None, "/opt/pw/chrome"])  # missing, then there once Playwright has downloaded it
    monkeypatch.setattr(browser, "find_chromium", lambda: next(found))
    monkeypatch.setattr(browser, "install_chromium", lambda: True)
    assert browser.check_browser() == (0, "browser test: Chromium at /opt/pw/chrome")
