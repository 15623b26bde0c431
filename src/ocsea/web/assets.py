"""Assets shared by the pages and the offline HTML reports. The Thai font (Noto Sans Thai, SIL
OFL 1.1) is installed from the npm registry by ``scripts/fetch-web-assets.sh``; a report embeds
it (9 KB a weight) so that Thai renders on a machine without a Thai font, instead of boxes."""

from __future__ import annotations

import base64
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
