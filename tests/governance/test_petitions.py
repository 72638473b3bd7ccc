"""Petitions on the case engine: statutory clocks on the mainland calendar, letters,
the once-only extension, review windows, same-matter detection, group rules,
confidentiality towards the accused, and on-time statistics.

Deadlines are hand-computed from the State Council's holiday notices for 2026
(as carried by chinese-calendar): 1-7 Oct are off, Sat 10 Oct is a make-up
working day, 1-5 May are off.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.cases.calendar import WorkCalendar
from pingan.cases.escalation import run_escalations
from pingan.cases.models import Case
from pingan.cases.service import timeline
from pingan.governance import petitions, petitions_stats
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_dedupe import bigrams, cosine, find_same_matter, person_key
from pingan.governance.petitions_models import PetitionLetter
from pingan.governance.petitions_schemas import PetitionIn, RepresentativeIn
from pingan.governance.petitions_steps import close_lapsed, latest_clock, take
from pingan.governance.tips import ensure_tip_categories
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.kit.security import hash_password
from pingan.org import users
from pingan.org.principal import Principal
from tests.citykit import TestCity, unit

SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"
# username -> (role, org unit code)
PEOPLE = {
    "office": ("officer", "C"),
    "west": ("officer", "DW"),
    "sw": ("officer", "SW"),
    "east": ("officer", "DE"),
    "me_staff": ("officer", "ME"),
    "accused": ("officer", "ME"),
    "cashier_a": ("reward_officer", "C"),
    "cashier_b": ("reward_officer", "C"),
    "leader": (None, None),
}


@lru_cache(maxsize=1)
def _hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def people(engine: Engine, city: TestCity) -> dict[str, int]:
    return make_people(engine)


def make_people(engine: Engine) -> dict[str, int]:
    """Categories and the users above (the test city must exist)."""
    ids = {}
    system = Principal.system("test")
    with session_scope(engine) as session:
        petitions.ensure_petition_categories(session)
        ensure_tip_categories(session)
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=system
            )
            user.password_hash, user.is_service = _hash(), False
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=system
                )
            ids[name] = user.id
    return ids


def who(session: Session, name: str) -> Principal:
    return users.principal_for(session, users.get_user_by_name(session, name), via="session")


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=SH)


def matter(session: Session, **over: object) -> PetitionIn:
    base: dict[str, object] = {
        "channel": "visit",
        "category": "petition.housing",
        "unit_id": unit(session, "C").id,
        "matter": "小区电梯停运三个月，物业不予维修，老人无法下楼。",
        "requests": "尽快修复电梯",
        "place": "幸福小区3号楼",
        "petitioner_name": "张三",
        "petitioner_phone": "138 0000 1111",
    }
    base.update(over)
    return PetitionIn.model_validate(base)


def last_day(session: Session, case: Case, clock: str) -> dt.date:
    found = latest_clock(session, case.id, clock)
    assert found is not None and found.due_at is not None
    return (found.due_at - dt.timedelta(microseconds=1)).astimezone(SH).date()


def letter(session: Session, case: Case, kind: str) -> PetitionLetter:
    rows = session.scalars(
        select(PetitionLetter).where(PetitionLetter.case_id == case.id, PetitionLetter.kind == kind)
    ).all()
    assert len(rows) == 1, kind
    return rows[0]


def test_statutory_periods_on_the_mainland_calendar() -> None:
    """Pure calendar: statutory day periods and their move past holidays."""
    cal = WorkCalendar(SH, {dt.date(2026, 10, d): False for d in range(1, 8)})
    end = cal.statutory_end(local(2026, 9, 16), 15)  # day 15 is 1 Oct, a holiday
    assert end == dt.datetime(2026, 10, 9, tzinfo=SH)  # midnight ending Thu 8 Oct
    # A working last day stays; the period counts from the next day.
    assert cal.statutory_end(local(2026, 3, 2, 23, 59), 15) == dt.datetime(2026, 3, 18, tzinfo=SH)
    # Extension: 30 days after the last day of the old period (Fri 11 Dec -> Sun 10 Jan -> Mon).
    old = dt.datetime(2026, 12, 12, tzinfo=SH)
    assert cal.extended("statutory_days", old, 30) == dt.datetime(2027, 1, 12, tzinfo=SH)


def test_full_course_with_letters_extension_and_review(
    engine: Engine, people: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        assert load_mainland_holidays(s, 2026)[0] > 0
        office = who(s, "office")
        case, petition, code, matches = petitions.create_petition(
            s, petition_in=matter(s), actor=office, now=local(2026, 9, 16)
        )
        assert matches == [] and len(code) == 8 and petition.lookup_hash != code
        assert case.number.startswith("XF-2026-") and "电梯" not in case.title
        # 15 days from 16 Sep end on 1 Oct, a holiday: moved to Thu 8 Oct.
        assert last_day(s, case, "register") == dt.date(2026, 10, 8)
        registered = letter(s, case, "registered")
        assert json.loads(registered.dates)["register_by"] == "2026-10-08"
        assert "2026年10月8日" in registered.html and "张三" in registered.html
        number = case.number

        take(
            s,
            case_ref=number,
            name="forward",
            fields={"unit_id": unit(s, "SW").id},
            actor=office,
            now=local(2026, 9, 29),
        )
        # 5 working days after Tue 29 Sep: 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct (make-up), 12 Oct.
        objection = latest_clock(s, case.id, "objection")
        assert objection is not None and objection.due_at == local(2026, 10, 12, 17)
        assert last_day(s, case, "notify") == dt.date(2026, 10, 14)
        sw = who(s, "sw")
        with pytest.raises(Conflict, match="objection period ended on 2026-10-12"):
            take(
                s,
                case_ref=number,
                name="object",
                fields={"reason": "not ours"},
                actor=sw,
                now=local(2026, 10, 12, 17, 30),
            )

    with session_scope(engine) as s:
        sw = who(s, "sw")
        case = take(
            s, case_ref=number, name="accept", fields={}, actor=sw, now=local(2026, 10, 12, 16)
        )
        assert last_day(s, case, "handle") == dt.date(2026, 12, 11)  # 12 Oct + 60 days
        assert json.loads(letter(s, case, "accepted").dates)["handle_by"] == "2026-12-11"
        with pytest.raises(ValidationFailed, match="from 1 to 30"):
            take(
                s,
                case_ref=number,
                name="extend",
                fields={"reason": "survey", "days": 31},
                actor=sw,
                now=local(2026, 11, 20),
            )
    with session_scope(engine) as s:
        sw = who(s, "sw")
        case = take(
            s,
            case_ref=number,
            name="extend",
            fields={"reason": "需委托房屋安全鉴定", "days": 30},
            actor=sw,
            now=local(2026, 11, 20),
        )
        # 11 Dec + 30 days is Sun 10 Jan 2027: the next working day, Mon 11 Jan.
        assert last_day(s, case, "handle") == dt.date(2027, 1, 11)
        extended = json.loads(letter(s, case, "extended").dates)
        assert extended == {"handle_by": "2027-01-11", "previous_by": "2026-12-11"}
        assert "需委托房屋安全鉴定" in letter(s, case, "extended").html
    with session_scope(engine) as s, pytest.raises(Conflict, match="only once"):
        take(
            s,
            case_ref=number,
            name="extend",
            fields={"reason": "again", "days": 5},
            actor=who(s, "sw"),
            now=local(2026, 12, 1),
        )
    with session_scope(engine) as s:
        case = take(
            s,
            case_ref=number,
            name="reply",
            fields={"opinion": "已责成物业修复"},
            actor=who(s, "sw"),
            now=local(2026, 12, 1),
        )
        assert json.loads(letter(s, case, "reply").dates)["review_by"] == "2026-12-31"
        handle = latest_clock(s, case.id, "handle")
        assert handle is not None and handle.status == "stopped"
        case = take(
            s,
            case_ref=number,
            name="request_review",
            fields={},
            actor=who(s, "office"),
            now=local(2026, 12, 30),
        )
        # The review body is the superior of the body that replied.
        assert case.unit_id == unit(s, "DW").id
        assert last_day(s, case, "review") == dt.date(2027, 1, 29)
        case = take(
            s,
            case_ref=number,
            name="review",
            fields={"opinion": "维持"},
            actor=who(s, "west"),
            now=local(2027, 1, 5),
        )
        assert json.loads(letter(s, case, "review").dates)["rereview_by"] == "2027-02-04"
        case = take(
            s,
            case_ref=number,
            name="request_rereview",
            fields={},
            actor=who(s, "office"),
            now=local(2027, 1, 6),
        )
        assert case.unit_id == unit(s, "C").id
        case = take(
            s,
            case_ref=number,
            name="rereview",
            fields={"opinion": "维持，终结"},
            actor=who(s, "office"),
            now=local(2027, 1, 20),
        )
        assert case.state == "concluded" and not case.is_open
        assert "不再受理" in letter(s, case, "rereview").html

    # The same facts, by another channel and reworded: registered, then not accepted.
    with session_scope(engine) as s:
        again = matter(
            s, channel="letter", matter="小区电梯停运三个月，物业不予维修，老人下不了楼！"
        )
        case2, petition2, _code, matches = petitions.create_petition(
            s, petition_in=again, actor=who(s, "office"), now=local(2027, 2, 10)
        )
        assert matches[0].number == number and matches[0].exhausted
        assert case2.state == "not_accepted" and petition2.same_matter_as_id is not None
        assert number in letter(s, case2, "not_accepted").html


def test_review_window_and_close(engine: Engine, people: dict[str, int]) -> None:
    with session_scope(engine) as s:
        office, sw = who(s, "office"), who(s, "sw")
        case, *_ = petitions.create_petition(
            s, petition_in=matter(s), actor=office, now=local(2026, 3, 2)
        )
        n = case.number
        take(
            s,
            case_ref=n,
            name="forward",
            fields={"unit_id": unit(s, "SW").id},
            actor=office,
            now=local(2026, 3, 3),
        )
        take(s, case_ref=n, name="accept", fields={}, actor=sw, now=local(2026, 3, 4))
        # 30 days after Mon 9 Mar: Wed 8 Apr, a working day.
        take(s, case_ref=n, name="reply", fields={"opinion": "ok"}, actor=sw, now=local(2026, 3, 9))
        with pytest.raises(Conflict, match="still open"):
            take(
                s,
                case_ref=n,
                name="close",
                fields={"reason": "window_lapsed"},
                actor=office,
                now=local(2026, 4, 8, 23),
            )
    with session_scope(engine) as s:
        office = who(s, "office")
        with pytest.raises(Conflict, match="had to be asked by 2026-04-08"):
            take(
                s,
                case_ref=n,
                name="request_review",
                fields={},
                actor=office,
                now=local(2026, 4, 9, 0, 30),
            )
    with session_scope(engine) as s:
        # The hourly job closes the matter once its window has lapsed, and only once.
        assert close_lapsed(s, now=local(2026, 4, 8, 23)) == []
        assert close_lapsed(s, now=local(2026, 4, 9, 1)) == [n]
        assert close_lapsed(s, now=local(2026, 4, 10)) == []
        case, _p = petitions.load(s, n)
        assert case.state == "closed" and not case.is_open
        window = latest_clock(s, case.id, "review_window")
        assert window is not None and window.status == "stopped"


def test_objection_returns_the_matter_and_restarts_registration(
    engine: Engine, people: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        office = who(s, "office")
        case, *_ = petitions.create_petition(
            s, petition_in=matter(s), actor=office, now=local(2026, 3, 2)
        )
        take(
            s,
            case_ref=case.number,
            name="forward",
            fields={"unit_id": unit(s, "SE").id},
            actor=office,
            now=local(2026, 3, 3),
        )
        case = take(
            s,
            case_ref=case.number,
            name="object",
            fields={"reason": "west side"},
            actor=who(s, "east"),
            now=local(2026, 3, 9),
        )
        assert case.state == "registered" and case.unit_id == unit(s, "C").id
        moves = [json.loads(e.detail) for e in timeline(s, case.id) if e.kind == "transfer"]
        assert [(m["reason"], m["unit"]["to"]) for m in moves] == [
            ("forward", unit(s, "SE").id),
            ("object", unit(s, "C").id),
        ]
        assert last_day(s, case, "register") == dt.date(2026, 3, 24)


def test_escalation_flags_a_missed_statutory_deadline_once(
    engine: Engine, people: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        case, *_ = petitions.create_petition(
            s, petition_in=matter(s), actor=who(s, "office"), now=local(2026, 3, 2)
        )
        case_id = case.id
    # Register: 2 Mar 10:00 to midnight ending 17 Mar = 374 h; the reminder comes at
    # 80 % of it, 299.2 h in (14 Mar 21:12), the flag at the deadline.
    assert run_escalations(engine, now=local(2026, 3, 14, 21)) == 0
    assert run_escalations(engine, now=local(2026, 3, 14, 21, 30)) == 1
    with session_scope(engine) as s:
        found = s.get(Case, case_id)
        assert found is not None and not found.supervision_flag
    assert run_escalations(engine, now=local(2026, 3, 17, 23)) == 0
    assert run_escalations(engine, now=local(2026, 3, 18, 0, 1)) == 1
    assert run_escalations(engine, now=local(2026, 3, 19)) == 0
    with session_scope(engine) as s:
        found = s.get(Case, case_id)
        assert found is not None and found.supervision_flag
        kinds = [
            json.loads(e.detail)["rule"] for e in timeline(s, case_id) if e.kind == "escalation"
        ]
        assert kinds == ["register-near", "register-breach"]


def test_group_petitions_name_at_most_five_representatives(
    engine: Engine, people: dict[str, int]
) -> None:
    reps = [RepresentativeIn(name=f"代表{i}") for i in range(6)]
    with session_scope(engine) as s:
        office = who(s, "office")
        with pytest.raises(ValidationFailed, match="at most 5 representatives, got 6") as err:
            petitions.create_petition(
                s,
                petition_in=matter(s, is_group=True, headcount=40, representatives=reps),
                actor=office,
            )
        assert err.value.field == "representatives"
        with pytest.raises(ValidationFailed, match="names its representatives"):
            petitions.create_petition(
                s, petition_in=matter(s, is_group=True, headcount=40), actor=office
            )
    with session_scope(engine) as s:
        case, petition, *_ = petitions.create_petition(
            s,
            petition_in=matter(s, is_group=True, headcount=40, representatives=reps[:5]),
            actor=who(s, "office"),
        )
        assert petition.is_group and len(petitions.representatives(s, case.id)) == 5


def test_text_similarity_agrees_with_scikit_learn() -> None:
    """The bigram cosine against a trusted peer: scikit-learn's character 2-gram counts."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from pingan.governance.petitions_dedupe import normalise

    texts = [
        "小区电梯停运三个月，物业不予维修，老人无法下楼。",
        "我们小区电梯停运了三个月，物业一直不维修！",
        "Street light OUT on Jiefang Road since May",
        "street-light out on jiefang road, since may 3",
        "工地拖欠农民工工资八个月。",
        "ａｂｃ１２３ full width",
    ]
    norm = [normalise(t) for t in texts]
    counts = CountVectorizer(analyzer="char", ngram_range=(2, 2), lowercase=False)
    peer = cosine_similarity(counts.fit_transform(norm))
    for i, a in enumerate(texts):
        for j, b in enumerate(texts):
            assert cosine(bigrams(a), bigrams(b)) == pytest.approx(peer[i, j], abs=1e-12)


def test_same_matter_detection_across_channels(engine: Engine, people: dict[str, int]) -> None:
    # The text measure, by hand: {ab, bc, cd} . {ab, bc, ce} = 2, norms sqrt(3) each.
    assert cosine(bigrams("abcd"), bigrams("ABCE")) == pytest.approx(2 / 3)
    assert cosine(bigrams("ab"), bigrams("cd")) == 0.0
    assert person_key("张三", "138-0000-1111") == person_key(" 张三", "13800001111")
    with session_scope(engine) as s:
        office = who(s, "office")
        first, *_ = petitions.create_petition(
            s, petition_in=matter(s), actor=office, now=local(2026, 3, 2)
        )
        petitions.create_petition(
            s,
            petition_in=matter(
                s,
                matter="道路施工噪音扰民，夜间施工到凌晨两点。",
                place="解放路",
                petitioner_name="李四",
                petitioner_phone="139",
            ),
            actor=office,
            now=local(2026, 3, 3),
        )
        # Same person by phone, reworded, by web: found.
        web = matter(
            s,
            channel="web",
            matter="我们小区电梯停运三个月了，物业不予维修。",
            place="",
            petitioner_name="张三",
            petitioner_phone="13800001111",
        )
        _c, petition, _code, found = petitions.create_petition(
            s, petition_in=web, actor=office, now=local(2026, 3, 10)
        )
        assert [m.number for m in found] == [first.number]
        assert found[0].same_person and not found[0].same_place and found[0].text >= 0.6
        assert petition.same_matter_as_id == first.id
        # Same place, other (anonymous) person, close text: found by place.
        by_place = find_same_matter(
            s,
            matter="幸福小区电梯停运三个月，物业不予维修，老人无法下楼",
            person=None,
            place="幸福小区3号楼",
            now=local(2026, 3, 11),
        )
        assert first.number in [m.number for m in by_place]
        assert all(m.same_place or m.text >= 0.85 for m in by_place)
        # A different matter by the same person is not the same matter.
        other = find_same_matter(
            s,
            matter="申请廉租房补贴，材料已交齐但半年未答复。",
            person=person_key("张三", "13800001111"),
            place="",
            now=local(2026, 3, 11),
        )
        assert other == []


def test_accusations_are_kept_from_the_accused_and_every_access_is_audited(
    engine: Engine, people: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        office = who(s, "office")
        complaint = matter(
            s,
            category="petition.official_conduct",
            matter="街道某干部索要好处费。",
            accused_name="王某",
            accused_unit_id=unit(s, "SW").id,
            accused_user_id=people["accused"],
        )
        case, *_ = petitions.create_petition(s, petition_in=complaint, actor=office)
        number = case.number
        petitions.add_material(
            s,
            case_ref=number,
            filename="proof.pdf",
            data=b"%PDF-1.4 evidence",
            accuses=True,
            actor=office,
        )
        # Never forwarded to the accused unit or inside it; the superior is fine.
        for code in ("SW", "MW", "W1"):
            with pytest.raises(ValidationFailed, match="accuses"):
                take(
                    s,
                    case_ref=number,
                    name="forward",
                    fields={"unit_id": unit(s, code).id},
                    actor=office,
                )
        with pytest.raises(ValidationFailed, match="accuses"):
            petitions.add_participant(
                s, case_ref=number, unit_id=unit(s, "SW").id, department="", actor=office
            )
        with pytest.raises(ValidationFailed, match="accused side"):
            petitions.assign_leader(s, case_ref=number, user_id=people["sw"], actor=office)
        take(s, case_ref=number, name="forward", fields={"unit_id": unit(s, "DW").id}, actor=office)
    for name in ("sw", "accused", "me_staff"):  # the unit, the person, the person's unit
        with session_scope(engine) as s:
            barred = who(s, name)
            with pytest.raises(NotFound):
                petitions.get_petition(s, number, actor=barred)
            assert number not in [c.number for c, _p in petitions.list_petitions(s, actor=barred)]
    with session_scope(engine) as s:
        west = who(s, "west")
        case, petition = petitions.get_petition(s, number, actor=west)
        assert petition.accused_name == "王某"
        material = petitions.list_materials(s, case_ref=number, actor=west)[0]
        assert petitions.get_material(
            s, case_ref=number, material_id=material.id, actor=west
        ).accuses
    with session_scope(engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_id == number)).all()
        refused = {e.actor for e in entries if e.action == "petition.read_refused"}
        assert refused == {"user:sw", "user:accused", "user:me_staff"}
        reads = [(e.actor, e.action) for e in entries if e.actor == "user:west"]
        assert ("user:west", "petition.read") in reads
        assert ("user:west", "petition.material_read") in reads
        assert ("user:west", "petition.list_materials") in reads


def test_joint_reception_and_leader(engine: Engine, people: dict[str, int]) -> None:
    with session_scope(engine) as s:
        office = who(s, "office")
        case, *_ = petitions.create_petition(s, petition_in=matter(s), actor=office)
        number = case.number
        with pytest.raises(NotFound):
            petitions.get_petition(s, number, actor=who(s, "east"))
    with session_scope(engine) as s:
        office = who(s, "office")
        petitions.add_participant(
            s, case_ref=number, unit_id=unit(s, "DE").id, department="housing", actor=office
        )
        petitions.assign_leader(s, case_ref=number, user_id=people["leader"], actor=office)
    with session_scope(engine) as s:
        _c, petition = petitions.get_petition(s, number, actor=who(s, "east"))
        assert petition.joint
        leader = who(s, "leader")
        assert not leader.grants
        petitions.get_petition(s, number, actor=leader)
        mine = petitions.list_petitions(s, actor=leader, led_by_me=True)
        assert [c.number for c, _p in mine] == [number]


def test_on_time_rate_by_unit(engine: Engine, people: dict[str, int]) -> None:
    """Three matters at SW: one replied in time, one replied late, one overdue and open."""
    with session_scope(engine) as s:
        office, sw = who(s, "office"), who(s, "sw")
        sw_id = unit(s, "SW").id
        numbers = []
        for _ in range(3):
            case, *_r = petitions.create_petition(
                s, petition_in=matter(s), actor=office, now=local(2026, 3, 2)
            )
            take(
                s,
                case_ref=case.number,
                name="forward",
                fields={"unit_id": sw_id},
                actor=office,
                now=local(2026, 3, 3),
            )
            take(s, case_ref=case.number, name="accept", fields={}, actor=sw, now=local(2026, 3, 4))
            numbers.append(case.number)
        # handle: 4 Mar + 60 days is Sun 3 May (no holidays loaded here: weekends only),
        # so the last day is Mon 4 May; a reply on 5 May is late.
        take(
            s,
            case_ref=numbers[0],
            name="reply",
            fields={"opinion": "a"},
            actor=sw,
            now=local(2026, 4, 1),
        )
        take(
            s,
            case_ref=numbers[1],
            name="reply",
            fields={"opinion": "b"},
            actor=sw,
            now=local(2026, 5, 5, 9),
        )
        result = petitions_stats.statistics(s, actor=office, now=local(2026, 5, 6))
    rows = {r["unit_id"]: r for r in result["on_time_by_unit"]}
    sw_row = rows[sw_id]
    # Per matter, register / notify / handle; notify and register stopped in time for all 3.
    assert (sw_row["decided"], sw_row["on_time"], sw_row["late"], sw_row["overdue_open"]) == (
        8,
        7,
        1,
        1,
    )
    assert sw_row["on_time_rate"] == pytest.approx(7 / 9, abs=1e-4)
    assert result["total"] == 3 and result["by_channel"] == {"visit": 3}
    assert result["by_state"] == {"accepted": 1, "replied": 2}
