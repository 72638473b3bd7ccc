"""Anonymous tips: PIN and lockout, metadata stripped from images, triage to outcome,
tiered rewards with four-eyes approval, payment against number + PIN, a balanced ledger."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import Engine

from pingan.cases.models import Case
from pingan.governance import tips, tips_rewards
from pingan.governance.tips_schemas import TipIn
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pingan.org import users
from pingan.org.principal import Principal
from tests.citykit import TestCity, unit
from tests.governance.test_petitions import make_people, who

PIN = "river-7731"
T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in the city


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    return make_people(engine)


def file_tip(engine: Engine, category: str = "tip.drugs", pin: str = PIN) -> str:
    with session_scope(engine) as s:
        case = tips.create_tip(
            s,
            tip_in=TipIn(
                category=category,
                content="Dealing behind the market at night",
                place="east gate",
                pin=pin,
            ),
            now=T0,
        )
        return case.number


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "AcmePhone"  # Make
    exif[0x0110] = "SerialModel-5f3e"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90 to display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", "Li Si, 13800001111")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_images_are_reencoded_without_metadata() -> None:
    raw = jpeg_with_exif()
    assert b"AcmePhone" in raw and len(Image.open(io.BytesIO(raw)).getexif()) == 3
    clean, kind = tips.clean_image(raw)
    assert kind == "image/jpeg" and b"AcmePhone" not in clean and b"Exif" not in clean
    with Image.open(io.BytesIO(clean)) as img:
        assert len(img.getexif()) == 0
        assert img.size == (24, 32)  # the orientation was applied to the pixels, then dropped
    raw_png = png_with_text()
    clean_png, kind = tips.clean_image(raw_png)
    assert kind == "image/png" and b"Li Si" in raw_png and b"Li Si" not in clean_png
    with Image.open(io.BytesIO(clean_png)) as img:
        assert "Author" not in img.info and img.mode == "RGBA"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    for other in (b"%PDF-1.4 a document", gif.getvalue(), b"not an image at all"):
        with pytest.raises(ValidationFailed, match="only JPEG and PNG"):
            tips.clean_image(other)


def test_pin_is_hashed_and_a_run_of_wrong_pins_locks(
    engine: Engine, people: dict[str, int]
) -> None:
    number = file_tip(engine)
    with session_scope(engine) as s:
        case, tip = tips._load(s, number)
        assert PIN not in tip.pin_hash and tip.pin_hash.startswith("$argon2")
        assert case.reporter_user_id is None and case.reporter_name is None
        with pytest.raises(ValidationFailed, match="PIN"):
            tips.create_tip(s, tip_in=TipIn(category="tip.drugs", content="x", pin="aaaaaa"))
    for _ in range(tips.MAX_FAILED_PINS):
        with session_scope(engine) as s, pytest.raises(NotFound):
            tips.open_tip(s, number=number, pin="wrong-pin", now=T0)
    with session_scope(engine) as s, pytest.raises(Conflict, match="too many wrong PINs"):
        tips.open_tip(s, number=number, pin=PIN, now=T0 + dt.timedelta(minutes=1))
    with session_scope(engine) as s:
        tips.open_tip(s, number=number, pin=PIN, now=T0 + dt.timedelta(minutes=16))
    with session_scope(engine) as s, pytest.raises(NotFound, match="number and PIN"):
        tips.open_tip(s, number="JB-2026-999999", pin=PIN)


def test_dialogue_triage_referral_outcome(engine: Engine, people: dict[str, int]) -> None:
    number = file_tip(engine)
    with session_scope(engine) as s:
        office = who(s, "office")
        tips.add_staff_message(s, case_ref=number, text="Which night of the week?", actor=office)
        tips.add_tipster_message(s, number=number, pin=PIN, text="Fridays, after 23:00")
        tips.add_tipster_attachment(s, number=number, pin=PIN, data=jpeg_with_exif())
        view = tips.tipster_view(s, number=number, pin=PIN)
        assert [m.sender for m in view.messages] == ["staff", "tipster"]
        assert view.status == "received" and view.attachments == 1
        assert "office" not in view.model_dump_json()  # staff are not named to the tipster
        with pytest.raises(ValidationFailed, match="level must be"):
            tips.take(s, case_ref=number, name="triage", fields={"level": "soon"}, actor=office)
    with session_scope(engine) as s:
        office = who(s, "office")
        tips.take(
            s,
            case_ref=number,
            name="triage",
            fields={"level": "high"},
            actor=office,
            now=T0 + dt.timedelta(hours=2),
        )
        with pytest.raises(NotFound):  # the tip desk's tips are out of a subdistrict's sight
            tips.take(
                s,
                case_ref=number,
                name="refer",
                fields={"unit_id": unit(s, "DW").id},
                actor=who(s, "sw"),
            )
    with session_scope(engine) as s:
        case = tips.take(
            s,
            case_ref=number,
            name="refer",
            fields={"unit_id": unit(s, "DW").id},
            actor=who(s, "office"),
            now=T0 + dt.timedelta(hours=3),
        )
        assert case.unit_id == unit(s, "DW").id and case.department == "public_security"
        # The generic case engine refuses tip steps taken around the tips service.
        from pingan.cases import actions

        with pytest.raises(Conflict, match="/api/v1/tips"):
            actions.transition(
                s, case=case, name="conclude", fields={"outcome": "confirmed"}, actor=who(s, "west")
            )
    with session_scope(engine) as s:
        with pytest.raises(NotFound):  # east sees nothing of a tip referred west
            tips.get_tip(s, number, actor=who(s, "east"))
        case = tips.take(
            s,
            case_ref=number,
            name="conclude",
            fields={"outcome": "confirmed"},
            actor=who(s, "west"),
            now=T0 + dt.timedelta(days=3),
        )
        assert case.state == "concluded" and not case.is_open
        assert tips.tipster_view(s, number=number, pin=PIN).status == "concluded"


def _concluded(engine: Engine, outcome: str) -> str:
    number = file_tip(engine)
    with session_scope(engine) as s:
        office = who(s, "office")
        tips.take(s, case_ref=number, name="triage", fields={"level": "normal"}, actor=office)
        tips.take(
            s, case_ref=number, name="refer", fields={"unit_id": unit(s, "DW").id}, actor=office
        )
        tips.take(s, case_ref=number, name="conclude", fields={"outcome": outcome}, actor=office)
    return number


def test_rewards_four_eyes_payment_and_a_balanced_ledger(
    engine: Engine, people: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        office_user = users.get_user_by_name(s, "office")
        users.grant_role(
            s,
            user=office_user,
            role_name="reward_officer",
            unit=unit(s, "C"),
            actor=Principal.system("test"),
        )
    small, big, refused, nothing = (
        _concluded(engine, o)
        for o in ("confirmed", "major_confirmed", "partly_confirmed", "unfounded")
    )
    with session_scope(engine) as s:
        office = who(s, "office")
        with pytest.raises(ValidationFailed, match="between 2000 and 10000"):
            tips_rewards.propose(s, case_ref=small, amount_yuan=50, actor=office)
        with pytest.raises(Conflict, match="earns no reward"):
            tips_rewards.propose(s, case_ref=nothing, actor=office)
    with session_scope(engine) as s:
        office = who(s, "office")
        r_small = tips_rewards.propose(s, case_ref=small, actor=office).id  # tier B floor: 2000
        r_big = tips_rewards.propose(s, case_ref=big, amount_yuan=50_000, actor=office).id
        r_refused = tips_rewards.propose(s, case_ref=refused, amount_yuan=300, actor=office).id
        with pytest.raises(Conflict, match="already has reward"):
            tips_rewards.propose(s, case_ref=small, actor=office)
    with session_scope(engine) as s:
        with pytest.raises(Forbidden, match="four eyes"):
            tips_rewards.decide(s, reward_id=r_small, approve=True, actor=who(s, "office"))
        with pytest.raises(Forbidden):  # handles tips, but may not approve rewards
            tips_rewards.decide(s, reward_id=r_small, approve=True, actor=who(s, "west"))
    with session_scope(engine) as s:
        a = who(s, "cashier_a")
        tips_rewards.decide(s, reward_id=r_small, approve=True, actor=a)
        tips_rewards.decide(s, reward_id=r_big, approve=True, actor=a)
        tips_rewards.decide(s, reward_id=r_refused, approve=False, note="duplicate", actor=a)
        with pytest.raises(Conflict, match="approved, not proposed"):
            tips_rewards.decide(s, reward_id=r_small, approve=True, actor=who(s, "cashier_b"))
    with session_scope(engine) as s, pytest.raises(NotFound):
        tips_rewards.pay(s, number=small, pin="not-the-pin", actor=who(s, "cashier_b"))
    with session_scope(engine) as s:
        paid = tips_rewards.pay(s, number=small, pin=PIN, actor=who(s, "cashier_b"))
        assert paid.status == "paid" and paid.amount_fen == 200_000
        view = tips.tipster_view(s, number=small, pin=PIN)
        assert [(r.tier, r.amount_yuan, r.status) for r in view.rewards] == [("B", 2000.0, "paid")]
    with session_scope(engine) as s, pytest.raises(Conflict, match="no approved reward"):
        tips_rewards.pay(s, number=small, pin=PIN, actor=who(s, "cashier_b"))
    with session_scope(engine) as s:
        book = tips_rewards.ledger(s, actor=who(s, "cashier_a"))
        # By hand: approved 2,000 + 50,000 yuan; paid 2,000; the rejected 300 never posts.
        assert book["balances_fen"] == {
            "reward_expense": 5_200_000,
            "rewards_payable": -5_000_000,
            "cash": -200_000,
        }
        assert book["transactions"] == 3 and book["entries"] == 6
        assert book["balanced"] and book["payable_matches_approved"] and book["cash_matches_paid"]
        stats = tips_rewards.statistics(s, actor=who(s, "cashier_a"))
        assert stats["total"] == 4 and stats["by_outcome"]["major_confirmed"] == 1
        assert stats["rewards"]["paid"] == {"count": 1, "amount_yuan": 2000.0}
        with pytest.raises(Forbidden):
            tips_rewards.ledger(s, actor=who(s, "west"))


def test_triage_clock_escalates_once(engine: Engine, people: dict[str, int]) -> None:
    from pingan.cases.escalation import run_escalations

    number = file_tip(engine)
    # Triage is due 24 hours after Monday 10:00: Tuesday 10:00 (city time).
    assert run_escalations(engine, now=T0 + dt.timedelta(hours=23, minutes=59)) == 0
    assert run_escalations(engine, now=T0 + dt.timedelta(hours=24)) == 1
    assert run_escalations(engine, now=T0 + dt.timedelta(days=2)) == 0
    with session_scope(engine) as s:
        case, _tip = tips._load(s, number)
        assert isinstance(case, Case) and case.supervision_flag
