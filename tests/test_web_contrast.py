"""WCAG 2.1 AA contrast (4.5:1 for text) of the colour pairs the pages' stylesheet uses: text,
muted text, links, buttons, marks, notes, errors, keys and the network drawing's labels. Read
from the stylesheet itself, so a new colour that fails is caught."""

import re
from importlib import resources

import pytest

CSS = resources.files("ocsea.web").joinpath("static", "app.css").read_text(encoding="utf-8")
VARS = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", CSS))


def _hex(value: str) -> tuple[float, float, float]:
    value = VARS.get(value.removeprefix("var(--").removesuffix(")"), value).lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def _luminance(rgb) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def ratio(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(_hex(fg)), _luminance(_hex(bg))), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _rule(selector: str) -> str:
    m = re.search(r"(?:^|\})\s*" + re.escape(selector) + r"\s*\{([^}]*)\}", CSS, re.M)
    assert m, f"no rule {selector!r} in app.css"
    return m.group(1)


def _prop(selector: str, prop: str) -> str:
    m = re.search(rf"(?<![-a-z]){prop}:\s*([^;]+);", _rule(selector))
    assert m, f"{selector} has no {prop}"
    return m.group(1).strip()


PAIRS = [  # (what, foreground, background)
    ("body text", _prop("body", "color"), _prop("body", "background")),
    ("links", _prop("a", "color"), "var(--bg)"),
    ("muted text", _prop(".who", "color"), "var(--bg)"),
    ("button", _prop("button", "color"), _prop("button", "background")),
    (
        "secondary button",
        _prop("button.secondary", "color"),
        _prop("button.secondary", "background"),
    ),
    ("marked words", _prop("mark", "color"), _prop("mark", "background")),
    ("note", "var(--fg)", _prop(".note", "background")),
    ("error", _prop(".error", "color"), "var(--bg)"),
    ("keys", _prop("kbd", "color"), _prop("kbd", "background")),
    ("overdue row", "var(--fg)", _prop("tr.overdue td, tr.expired td", "background")),
    ("network labels", _prop("svg.network text", "fill"), _prop("svg.network", "background")),
]


@pytest.mark.parametrize(("what", "fg", "bg"), PAIRS, ids=[p[0] for p in PAIRS])
def test_text_contrast_is_wcag_aa(what, fg, bg):
    assert ratio(fg, bg) >= 4.5, f"{what}: {fg} on {bg} is {ratio(fg, bg):.2f}:1"


def test_the_contrast_formula():
    assert round(ratio("#000", "#fff"), 1) == 21.0 and round(ratio("#777", "#fff"), 2) == 4.48
