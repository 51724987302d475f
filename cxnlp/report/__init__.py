"""Reports of a run: a self-contained HTML page (more formats to come)."""

from __future__ import annotations

from .html import render_html, write_html

__all__ = ["render_html", "write_html"]
