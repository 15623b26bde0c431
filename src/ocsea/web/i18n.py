"""The pages' words in Thai and English. Thai is the default (``OCSEA_WEB_LANG`` or a user's
choice, kept in a cookie, changes it); a key missing in one language falls back to English."""

from __future__ import annotations

import os

LANGS = ("th", "en")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "ocsea",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "username": "User name",
        "password": "Password",
        "signed_in_as": "Signed in as",
        "session_ended": "Your session ended (30 minutes idle or 8 hours): sign in again.",
        "home": "Home",
        "queue": "Review queue",
        "findings_new": "New findings",
        "findings_reviewed": "Reviewed findings",
        "cases_open": "Open cases",
        "requests_due": "Requests overdue or due in 7 days",
        "top_findings": "Highest priority, not yet reviewed",
        "priority": "Priority",
        "kind": "Kind",
        "name": "Name or text",
        "status": "Status",
        "all": "All",
        "new": "new",
        "reviewed": "reviewed",
        "filter": "Filter",
        "next_page": "Next page",
        "no_findings": "No findings here.",
        "finding": "Finding",
        "text_reasons": "Why the text was flagged",
        "hash_matches": "Hash matches",
        "sharers": "Seen with sharers",
        "factors": "Priority factors",
        "reviews": "Reviews",
        "review": "Review",
        "classification": "Classification",
        "baseline": "Baseline (ICCAM: internationally illegal)",
        "national": "National (illegal in Thailand)",
        "not_illegal": "Not illegal",
        "age_group": "Apparent age",
        "infant": "Infant",
        "prepubescent": "Prepubescent",
        "pubescent": "Pubescent",
        "unknown": "Unknown",
        "virtual": "Virtual (drawn or generated)",
        "notes": "Notes",
        "save_next": "Save and go to the next",
        "keys_help": (
            "Keys: 1 baseline, 2 national, 3 not illegal; a infant, p prepubescent, u pubescent, "
            "0 unknown; v virtual; Enter save; j next, k previous."
        ),
        "previous": "Previous",
        "next": "Next",
        "saved": "Review saved.",
        "not_allowed": "Your role may not do this.",
        "csrf": "The form was out of date: try again.",
        "cases": "Cases",
        "case": "Case",
        "referrals": "Referrals",
        "no_cases": "No open cases.",
        "language": "ภาษาไทย",
        "nothing": "—",
    },
    "th": {
        "app": "ocsea",
        "sign_in": "เข้าสู่ระบบ",
        "sign_out": "ออกจากระบบ",
        "username": "ชื่อผู้ใช้",
        "password": "รหัสผ่าน",
        "signed_in_as": "เข้าสู่ระบบในชื่อ",
        "session_ended": "หมดเวลาใช้งาน (ไม่มีการใช้งาน 30 นาที หรือครบ 8 ชั่วโมง) กรุณาเข้าสู่ระบบอีกครั้ง",
        "home": "หน้าหลัก",
        "queue": "คิวตรวจสอบ",
        "findings_new": "รายการใหม่",
        "findings_reviewed": "ตรวจสอบแล้ว",
        "cases_open": "คดีที่เปิดอยู่",
        "requests_due": "คำร้องที่เลยกำหนดหรือครบกำหนดใน 7 วัน",
        "top_findings": "ลำดับความสำคัญสูงสุดที่ยังไม่ได้ตรวจ",
        "priority": "ลำดับความสำคัญ",
        "kind": "ประเภท",
        "name": "ชื่อหรือข้อความ",
        "status": "สถานะ",
        "all": "ทั้งหมด",
        "new": "ใหม่",
        "reviewed": "ตรวจแล้ว",
        "filter": "กรอง",
        "next_page": "หน้าถัดไป",
        "no_findings": "ไม่มีรายการ",
        "finding": "รายการ",
        "text_reasons": "เหตุที่ข้อความถูกตั้งข้อสังเกต",
        "hash_matches": "ค่าแฮชที่ตรงกัน",
        "sharers": "พบร่วมกับผู้แชร์",
        "factors": "ปัจจัยของลำดับความสำคัญ",
        "reviews": "ผลการตรวจ",
        "review": "ตรวจสอบ",
        "classification": "การจัดประเภท",
        "baseline": "Baseline (ICCAM: ผิดกฎหมายสากล)",
        "national": "National (ผิดกฎหมายไทย)",
        "not_illegal": "ไม่ผิดกฎหมาย",
        "age_group": "อายุโดยประมาณ",
        "infant": "ทารก",
        "prepubescent": "ก่อนวัยแรกรุ่น",
        "pubescent": "วัยแรกรุ่น",
        "unknown": "ไม่ทราบ",
        "virtual": "ภาพวาดหรือภาพสร้างขึ้น",
        "notes": "หมายเหตุ",
        "save_next": "บันทึกแล้วไปรายการถัดไป",
        "keys_help": (
            "ปุ่มลัด: 1 baseline, 2 national, 3 ไม่ผิดกฎหมาย; a ทารก, p ก่อนวัยแรกรุ่น, "
            "u วัยแรกรุ่น, 0 ไม่ทราบ; v ภาพวาด; Enter บันทึก; j ถัดไป, k ก่อนหน้า"
        ),
        "previous": "ก่อนหน้า",
        "next": "ถัดไป",
        "saved": "บันทึกผลการตรวจแล้ว",
        "not_allowed": "บทบาทของคุณไม่มีสิทธิ์ทำรายการนี้",
        "csrf": "แบบฟอร์มหมดอายุ กรุณาลองอีกครั้ง",
        "cases": "คดี",
        "case": "คดี",
        "referrals": "รายงาน",
        "no_cases": "ไม่มีคดีที่เปิดอยู่",
        "language": "English",
        "nothing": "—",
    },
}


def default_lang() -> str:
    lang = os.environ.get("OCSEA_WEB_LANG", "th")
    return lang if lang in LANGS else "th"


def words(lang: str) -> dict[str, str]:
    """Every string in ``lang``, English where it has none."""
    return {**STRINGS["en"], **STRINGS.get(lang, {})}
