"""A referral as every importer produces it, whatever the source format."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import datetime

from ocsea.referrals.entities import Mention

# NCMEC's file and report annotations (DESIGN §6), as the priority function reads them.
FILE_ANNOTATIONS = frozenset(
    {"liveStreaming", "infant", "physicalHarm", "violenceGore", "possibleSelfProduction",
     "generativeAi", "viral", "potentialMeme", "animeDrawingVirtualHentai", "bestiality"}
)  # fmt: skip
REPORT_ANNOTATIONS = frozenset(
    {"sextortion", "csamSolicitation", "minorToMinorInteraction", "spam"}
)


class ReferralError(ValueError):
    """A document that cannot be read as a referral; the message names the file and the field."""


@dataclass
class ReferralFile:
    name: str = ""
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    annotations: list[str] = field(default_factory=list)
    classification: str | None = None  # industryClassification (A1, B2 …) or hotline class


@dataclass
class Referral:
    source: str  # ncmec | cybertip-xml | hotline | csv
    report_id: str
    locator: str  # where in the document: "$", "$[3]", "line 7"
    content: bytes  # the record's own bytes, for duplicate detection
    received_at: datetime | None = None
    incident_at: datetime | None = None
    reporter: str = ""
    incident_type: str = ""
    escalate: str | None = None
    report_annotations: list[str] = field(default_factory=list)
    files: list[ReferralFile] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    victim_ages: list[float] = field(default_factory=list)
    prior_reports: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # ISO 3166 codes the document states
    texts: list[str] = field(default_factory=list)  # free text, for display and extraction
    hotline: dict = field(default_factory=dict)  # classification, age_group, content_type …
    unknown_fields: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # values that could not be read

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def file_annotations(self) -> set[str]:
        return {a for f in self.files for a in f.annotations}

    def summary(self) -> dict:
        """What the store keeps next to the untouched original (JSON-safe)."""
        # Built by hand: dataclasses.asdict deep-copies and took 15 % of an import.
        d = {f: getattr(self, f) for f in _SUMMARY_FIELDS}
        d["files"] = [vars(f).copy() for f in self.files]
        d["mentions"] = [
            {"kind": m.kind, "value": m.value, "display": m.display, "role": m.role,
             "field": m.field, "at": m.at.isoformat() if m.at else None, **m.attrs}
            for m in self.mentions
        ]  # fmt: skip
        for k in ("received_at", "incident_at"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


_SUMMARY_FIELDS = tuple(
    f.name for f in fields(Referral) if f.name not in ("content", "files", "mentions")
)
