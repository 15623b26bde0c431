"""Assets shared by the pages and the offline HTML reports. The Thai font (Noto Sans Thai, SIL
OFL 1.1) is installed from the npm registry by ``scripts/fetch-web-assets.sh``; a report embeds
it (9 KB a weight) so that Thai renders on a machine without a Thai font, instead of boxes."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from importlib import resources

FONT_FAMILY = 'system-ui,"Noto Sans Thai",sans-serif'
_WEIGHTS = {
    400: "noto-sans-thai-thai-400-normal.woff2",
    700: "noto-sans-thai-thai-700-normal.woff2",
}


@lru_cache(maxsize=1)
def report_font_css() -> str:
    """@font-face rules with the font inline (a report is one file), or "" where the font was
    not installed (the report then uses the system's fonts)."""
    vendor = resources.files("ocsea.web").joinpath("static", "vendor")
    rules = []
    for weight, name in _WEIGHTS.items():
        f = vendor.joinpath(name)
        if not f.is_file():
            return ""
        data = base64.b64encode(f.read_bytes()).decode("ascii")
        rules.append(f'@font-face{{font-family:"Noto Sans Thai";font-weight:{weight};'
                     f'src:url(data:font/woff2;base64,{data}) format("woff2")}}')  # fmt: skip
    return "".join(rules)


# Every table of a report sorts by a click on its heading (numbers as numbers) and, when it has
# more than ten rows, filters by what is typed above it. Inline, allowed by its hash in the
# report's CSP: a report stays one file that runs nothing else.
REPORT_SCRIPT = """(function () {
  "use strict";
  function key(td) { var t = (td && td.textContent || "").trim();
    return /^-?[0-9]+([.][0-9]+)?%?$/.test(t) ? parseFloat(t) : t.toLowerCase(); }
  document.querySelectorAll("table").forEach(function (table) {
    var body = table.tBodies[0] || table;
    var rows = function () { return Array.from(body.rows).filter(function (r) { return r.cells[0] && r.cells[0].tagName === "TD"; }); };
    var heads = table.querySelectorAll("th");
    heads.forEach(function (th, col) {
      th.style.cursor = "pointer"; th.title = "sort"; th.tabIndex = 0;
      var sort = function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows().sort(function (a, b) { var x = key(a.cells[col]), y = key(b.cells[col]);
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); }).forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") sort(); });
    });
    if (rows().length > 10) {
      var box = document.createElement("input");
      box.type = "search"; box.placeholder = "filter"; box.setAttribute("aria-label", "filter this table");
      box.addEventListener("input", function () { var q = box.value.toLowerCase();
        rows().forEach(function (r) { r.hidden = q && r.textContent.toLowerCase().indexOf(q) < 0; }); });
      table.parentNode.insertBefore(box, table);
    }
  });
})();"""
REPORT_SCRIPT_SRC = (
    "'sha256-" + base64.b64encode(hashlib.sha256(REPORT_SCRIPT.encode()).digest()).decode() + "'"
)


def report_script() -> str:
    """The tag to put before </body>; its CSP source is ``REPORT_SCRIPT_SRC``."""
    return f"<script>{REPORT_SCRIPT}</script>"


REPORTS = (  # the demo's reports, beside its index (demo-out/report.html)
    ("triage/report.html", "Triage"),
    ("scan/report.html", "Scan"),
    ("text/report.html", "Text detection"),
    ("cases/cases.html", "Casework"),
)


def report_nav(current: str) -> str:
    """Links from one report of a set to the index and to the others (relative, offline)."""
    links = ['<a href="../report.html">index</a>'] + [
        f'<a href="../{href}">{name}</a>' if href != current else f"<strong>{name}</strong>"
        for href, name in REPORTS
    ]
    return '<nav style="margin-bottom:1rem">' + " · ".join(links) + "</nav>"
