"""What a search provider shows: an action from configurable thresholds and a deterrence message
with help resources, in Thai and English."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MESSAGES = {
    "th": (
        "การค้นหานี้อาจเกี่ยวข้องกับสื่อล่วงละเมิดทางเพศเด็ก ซึ่งผิดกฎหมายในประเทศไทย "
        "(ประมวลกฎหมายอาญา มาตรา 287/1–287/2) และทำร้ายเด็กจริง ๆ การดู ครอบครอง หรือส่งต่อมีโทษจำคุก "
        "หากคุณกังวลเกี่ยวกับความคิดหรือพฤติกรรมของตนเอง ขอความช่วยเหลือแบบเป็นความลับได้"
    ),
    "en": (
        "This search may be looking for child sexual abuse material. It is illegal in Thailand "
        "(Penal Code s.287/1–287/2) and it harms real children; viewing, possessing or sharing it "
        "is punishable by imprisonment. If you are worried about your own thoughts or behaviour, "
        "confidential help is available."
    ),
}
DEFAULT_HELP = {
    "th": [
        {"name": "ศูนย์ช่วยเหลือสังคม สายด่วน 1300 (ตลอด 24 ชั่วโมง)", "contact": "1300"},
        {"name": "แจ้งเนื้อหาผิดกฎหมาย: Thai Hotline", "contact": "thaihotline.org"},
    ],
    "en": [
        {"name": "Social Assistance Center hotline 1300 (24 hours)", "contact": "1300"},
        {"name": "Report illegal content: Thai Hotline", "contact": "thaihotline.org"},
    ],
}


@dataclass
class Policy:
    warn_at: float = 0.35  # search deterrence wants recall
    block_at: float = 0.8
    messages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MESSAGES))
    help: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_HELP.items()}
    )

    def action(self, score: float) -> str:
        if score >= self.block_at:
            return "block"
        if score >= self.warn_at:
            return "warn"
        return "allow"

    def language(self, lang: str | None, text: str) -> str:
        if lang in self.messages:
            return lang  # type: ignore[return-value]
        return "th" if any("\u0e00" <= c <= "\u0e7f" for c in text) else "en"
