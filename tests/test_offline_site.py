"""The site's offline extension (``nnutils.book.offline_site``): MathJax copied into ``_static``, CDN links dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nnutils.book.offline_site import copy_mathjax, drop_cdn_stylesheets

ROOT = Path(__file__).resolve().parents[1]
MATPLOTLIB_PLAYER_HEAD = (
    '<link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">\n'
    '<script language="javascript">var x = 1;</script>'
)


def test_mathjax_is_copied_with_its_fonts_and_on_demand_components(tmp_path):
    script = copy_mathjax("mathjax/tex-mml-chtml.js", tmp_path)
    assert script == tmp_path / "mathjax" / "tex-mml-chtml.js" and script.stat().st_size > 500_000
    fonts = list((tmp_path / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("MathJax_Main-*.woff"))
    assert fonts, "no MathJax fonts beside the script"
    assert (tmp_path / "mathjax" / "input" / "tex" / "extensions" / "cancel.js").is_file()
    assert (tmp_path / "mathjax" / "LICENSE").is_file()


@pytest.mark.parametrize(
    "script, message",
    [
        ("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js", "not a file under _static"),
        ("../mathjax/tex-mml-chtml.js", "not a file under _static"),
        ("mathjax/tex-nothing.js", "MathJax has no tex-nothing.js; valid: "),
    ],
)
def test_a_mathjax_path_that_is_not_a_packaged_script_is_refused(tmp_path, script, message):
    with pytest.raises(ValueError, match=message):
        copy_mathjax(script, tmp_path)


def test_the_animation_players_cdn_stylesheet_is_dropped_and_its_script_kept():
    assert drop_cdn_stylesheets(MATPLOTLIB_PLAYER_HEAD) == '<script language="javascript">var x = 1;</script>'
    local = '<link rel="stylesheet" href="../_static/vendor/fontawesome/css/all.min.css">'
    assert drop_cdn_stylesheets(local) == local


def test_the_site_config_loads_the_extension_and_a_local_mathjax():
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]
    assert "nnutils.book.offline_site" in sphinx["extra_extensions"]
    assert "://" not in sphinx["config"]["mathjax_path"], "mathjax_path is a URL: the site would fetch MathJax"
