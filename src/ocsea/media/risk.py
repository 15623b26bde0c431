"""One risk score for unknown media, with its reasons: what to review first, never a verdict.

Pure core: the signals a model adapter measured go in (``ImageSignals``), a score in 0..1 and
sentences a person can read come out. The combination is a logistic rule over four named
features, its weights in ``ocsea.toml`` under ``[media.risk]`` and refitted on an agency's own
reviewed cases by ``ocsea media calibrate``. The defaults are set by reasoning, not fitted (no
labelled abuse imagery exists here, nor should it): sexual content is the main signal, a face
that looks under 18 raises it, both together raise it most, and a child's face alone (family
photos, school events) stays low. docs/media-model-card.md gives the numbers and the limits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

# Feature names, in the order ``features`` returns them (and calibration fits them).
FEATURES = ("nsfw", "minor_face", "nsfw_x_minor_face", "small_image")
DEFAULT_WEIGHTS: dict[str, float] = {
    "bias": -3.0,
    "nsfw": 4.0,
    "minor_face": 1.5,
    "nsfw_x_minor_face": 3.0,
    "small_image": -0.3,
}
REVIEW_FIRST = 0.5  # a risk at or above this is listed as "review first"
SMALL_SIDE = 128  # pixels: below this on the short side an image is a thumbnail or an icon
ADULT_AGE = 18


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face: its box in the decoded image (left, top, right, bottom), the model's
    apparent age as a range (10th to 90th percentile of its age distribution) and the share of
    that distribution under 18."""

    box: tuple[int, int, int, int]
    age: float
    age_low: float
    age_high: float
    p_minor: float

    def to_dict(self) -> dict:
        return {
            "box": list(self.box),
            "age": round(self.age, 1),
            "age_low": round(self.age_low, 1),
            "age_high": round(self.age_high, 1),
            "p_minor": round(self.p_minor, 4),
        }


@dataclass(frozen=True, slots=True)
class ImageSignals:
    """What the models measured on one image or video frame."""

    nsfw: float
    faces: tuple[Face, ...] = ()
    width: int = 0
    height: int = 0


@dataclass(frozen=True, slots=True)
class Risk:
    score: float
    reasons: tuple[str, ...]
    features: tuple[float, ...] = field(default=())

    @property
    def review_first(self) -> bool:
        return self.score >= REVIEW_FIRST


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The defaults with ``weights`` over them; unknown names and non-numbers are errors."""
    out = dict(DEFAULT_WEIGHTS)
    for k, v in weights.items():
        if k not in DEFAULT_WEIGHTS:
            known = ", ".join(DEFAULT_WEIGHTS)
            raise ValueError(f"[media.risk] {k!r}: unknown weight (known: {known})")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"[media.risk] {k!r}: must be a finite number, got {v!r}")
        out[k] = float(v)
    return out


def features(sig: ImageSignals) -> tuple[float, ...]:
    minor = max((f.p_minor for f in sig.faces), default=0.0)
    small = 1.0 if sig.width and sig.height and min(sig.width, sig.height) < SMALL_SIDE else 0.0
    nsfw = min(1.0, max(0.0, sig.nsfw))
    return (nsfw, minor, nsfw * minor, small)


def combine(sig: ImageSignals, weights: Mapping[str, float] | None = None) -> Risk:
    w = DEFAULT_WEIGHTS if weights is None else weights
    x = features(sig)
    z = w["bias"] + sum(w[name] * v for name, v in zip(FEATURES, x, strict=True))
    score = 1.0 / (1.0 + math.exp(-z))
    return Risk(round(score, 4), _reasons(sig), x)


def _reasons(sig: ImageSignals) -> tuple[str, ...]:
    out = [f"sexual-content score {sig.nsfw:.2f} (open_nsfw; 0 none, 1 explicit)"]
    if not sig.faces:
        out.append("no face found (small, turned or covered faces are not found)")
    else:
        # the face the score uses: the largest P(under 18)
        young = max(sig.faces, key=lambda f: (f.p_minor, -f.age_low))
        n = len(sig.faces)
        out.append(
            f"{n} face{'s' if n > 1 else ''}; youngest-looking apparent age {young.age:.0f} "
            f"(likely {young.age_low:.0f}-{young.age_high:.0f}, "
            f"P(under {ADULT_AGE}) {young.p_minor:.2f}); apparent age is an estimate, "
            "least reliable for children"
        )
    if sig.width and sig.height:
        small = min(sig.width, sig.height) < SMALL_SIDE
        out.append(f"image {sig.width}x{sig.height}" + (" (a thumbnail)" if small else ""))
    return tuple(out)


def signals_of(detail: Mapping) -> ImageSignals | None:
    """The signals a risk record stored (``ocsea.media.scoring.risk_record``), to score again
    with other weights; None if it holds none."""
    if "nsfw" not in detail:
        return None
    faces = tuple(
        Face(tuple(f["box"]), f["age"], f["age_low"], f["age_high"], f["p_minor"])  # type: ignore[arg-type]
        for f in detail.get("faces") or ()
    )
    return ImageSignals(
        float(detail["nsfw"]), faces, int(detail.get("width") or 0), int(detail.get("height") or 0)
    )


def current_score(detail: Mapping, weights: Mapping[str, float] | None = None) -> float | None:
    """The risk of stored signals (``ocsea.media.scoring.risk_record``) under the current
    weights: a scan or triage after ``ocsea media calibrate`` ranks by the new rule, not by the
    one the file was scored with. The stored risk if it holds no signals; None if neither."""
    sig = signals_of(detail)
    if sig is None:
        return None if detail.get("risk") is None else float(detail["risk"])
    return combine(sig, weights).score


__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "REVIEW_FIRST",
    "Face",
    "ImageSignals",
    "Risk",
    "check_weights",
    "combine",
    "current_score",
    "features",
    "signals_of",
]
