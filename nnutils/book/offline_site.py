"""A Sphinx extension that keeps the site offline: a viewer's browser fetches nothing from the network.

MathJax 3 is served from the site itself. The copy comes from the ``django-static-mathjax`` package (MathJax 3.2.2,
Apache-2.0; it installs as ``mathjax``). ``mathjax_path`` in ``_config.yml`` names the script under ``_static``
(``mathjax/tex-mml-chtml.js``); after an HTML build the script, its fonts and the components it loads on demand
are copied into ``_static/mathjax``. The Font Awesome 4 stylesheet that matplotlib's animation player links from a
CDN is dropped from the pages: the theme's own Font Awesome draws the player's icons.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path, PurePosixPath

# The combined TeX + MathML -> CommonHTML build, and what it loads on demand: TeX extensions, fonts, the menu and
# the accessibility components (speech rules among them).
PARTS = ("input", "output/chtml", "a11y", "ui", "sre", "adaptors", "LICENSE")
# matplotlib's to_jshtml player: <link rel="stylesheet" href="https://maxcdn.../font-awesome/4.4.0/...css">
CDN_FONT_AWESOME = re.compile(r"<link\b[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*[\"'][^>]*>\s*", re.I)


def mathjax_source() -> Path:
    """The installed MathJax 3 build (``es5``) folder."""
    try:
        import mathjax
    except ImportError:
        raise RuntimeError("MathJax is not installed: pip install django-static-mathjax (in the dev extra)") from None
    folder = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (folder / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"no MathJax 3 build at {folder}: reinstall django-static-mathjax")
    return folder


def copy_mathjax(script: str, static_dir: Path) -> Path:
    """Copy the MathJax script named by ``script`` (relative to ``_static``), with what it loads, into
    ``static_dir``; returns the copied script."""
    relative = PurePosixPath(script)
    if "://" in script or relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"mathjax_path {script!r} is not a file under _static (e.g. mathjax/tex-mml-chtml.js)")
    source = mathjax_source()
    if not (source / relative.name).is_file():
        found = sorted(p.name for p in source.glob("*.js"))
        raise ValueError(f"mathjax_path {script!r}: MathJax has no {relative.name}; valid: {', '.join(found)}")
    target = static_dir / relative.parent
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / relative.name, target / relative.name)
    license_file = source.parent / "LICENSE"
    for part in PARTS:
        origin = license_file if part == "LICENSE" else source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, dirs_exist_ok=True)
        elif origin.is_file():
            shutil.copy2(origin, target / part)
    return target / relative.name


def drop_cdn_stylesheets(html: str) -> str:
    """``html`` without links to a CDN's Font Awesome stylesheet."""
    return CDN_FONT_AWESOME.sub("", html)


def _on_doctree_resolved(app, doctree, docname) -> None:
    from docutils import nodes

    for raw in list(doctree.findall(nodes.raw)):
        if "html" in raw.get("format", "").split() and CDN_FONT_AWESOME.search(raw.astext()):
            raw[:] = [nodes.Text(drop_cdn_stylesheets(raw.astext()))]


def _on_build_finished(app, exception) -> None:
    script = app.config.mathjax_path or ""
    if exception is not None or app.builder.format != "html":
        return
    if "://" in script:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(f"mathjax_path is a URL ({script}): the pages fetch MathJax online")
        return
    copy_mathjax(script, Path(app.outdir) / "_static")


def setup(app) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("doctree-resolved", _on_doctree_resolved)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
