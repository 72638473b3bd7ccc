"""HTTP routes of anonymous tips: the public side (/api/v1/public/tips) and the staff side.

The public routes take no credentials and read nothing about the client: no
address, no headers, no cookies. The PIN travels in the body, never the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from sqlalchemy.orm import Session

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.api.uploads import read_capped
from pingan.cases.categories import list_categories
from pingan.cases.models import Case
from pingan.cases.service import category_codes
from pingan.cases.workflows.tip import WORKFLOW
from pingan.governance import tips, tips_logging, tips_rewards
from pingan.governance.tips_models import Tip, TipReward
from pingan.governance.tips_schemas import (
    DecisionIn,
    MessageOut,
    PayIn,
    PinIn,
    RewardIn,
    RewardOut,
    StaffMessageIn,
    StepIn,
    TipIn,
    TipOut,
    TipReceipt,
    TipsterMessageIn,
    TipsterView,
)

public_router = APIRouter(prefix="/api/v1/public/tips", tags=["public"])
router = APIRouter(prefix="/api/v1/tips", tags=["tips"])
# The routers are imported by the app: from then on the access log blanks clients here.
tips_logging.install()


@public_router.get("/categories")
def public_categories(session: DbSession) -> list[dict[str, str]]:
    tips.ensure_tip_categories(session)
    return [
        {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en}
        for c in list_categories(session, WORKFLOW.key)
    ]


@public_router.post("", response_model=TipReceipt, status_code=201)
def file_tip(body: TipIn, session: DbSession) -> TipReceipt:
    """File a tip without an account. Keep the number and your PIN: they are your only key."""
    case = tips.create_tip(session, tip_in=body)
    return TipReceipt(
        number=case.number,
        message="Keep this number and your PIN. We cannot recover them, and we do not know "
        "who you are.",
    )


@public_router.post("/{number}/read", response_model=TipsterView)
def read_tip(number: str, body: PinIn, session: DbSession) -> TipsterView:
    """Replies, status and any reward, for the number and PIN."""
    return tips.tipster_view(session, number=number, pin=body.pin)


@public_router.post("/{number}/messages", response_model=MessageOut, status_code=201)
def tipster_message(number: str, body: TipsterMessageIn, session: DbSession) -> MessageOut:
    row = tips.add_tipster_message(session, number=number, pin=body.pin, text=body.text)
    return MessageOut(id=row.id, at=row.at, sender=row.sender, body=row.body)


@public_router.post("/{number}/attachments", status_code=201)
def tipster_attachment(
    number: str,
    session: DbSession,
    pin: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> dict[str, object]:
    """A JPEG or PNG, re-encoded so that no metadata (EXIF, GPS, device) is kept."""
    limit = tips.MAX_IMAGE_BYTES
    data = read_capped(file, limit, detail=f"an image may be at most {limit // 2**20} MiB")
    row = tips.add_tipster_attachment(session, number=number, pin=pin, data=data)
    return {"id": row.id, "content_type": row.content_type, "size": row.size}


# --- staff --------------------------------------------------------------------

# A path id beyond 64 bits would overflow the database's integer, not find nothing.
DbId = Annotated[int, Path(ge=1, le=2**62)]


def case_key(ref: str) -> int | str:
    """A case id (digits) or a tip number."""
    return int(ref) if ref.isdigit() and len(ref) <= 18 else ref


def tip_out(session: Session, case: Case, tip: Tip) -> TipOut:
    return tip_outs(session, [(case, tip)])[0]


def tip_outs(session: Session, rows: Sequence[tuple[Case, Tip]]) -> list[TipOut]:
    """Tips as staff see them; categories, messages and attachments of the page in 3 queries."""
    case_ids = [c.id for c, _ in rows]
    codes = category_codes(session, {c.category_id for c, _ in rows})
    said = tips.messages_of_many(session, case_ids)
    files = tips.attachment_ids_of_many(session, case_ids)
    return [
        TipOut(
            id=case.id, number=case.number, state=case.state, is_open=case.is_open,
            category=codes.get(case.category_id, ""), channel=tip.channel, content=tip.content,
            place=tip.place, level=tip.level, outcome=tip.outcome, unit_id=case.unit_id,
            created_at=case.created_at, supervision_flag=case.supervision_flag,
            allowed_transitions=WORKFLOW.allowed_from(case.state),
            messages=[MessageOut(id=m.id, at=m.at, sender=m.sender, body=m.body)
                      for m in said[case.id]],
            attachment_ids=files[case.id],
        )
        for case, tip in rows
    ]  # fmt: skip


def reward_out(reward: TipReward, number: str) -> RewardOut:
    return RewardOut(
        id=reward.id, number=number, tier=reward.tier, amount_yuan=reward.amount_fen / 100,
        status=reward.status, proposed_by=reward.proposed_by, proposed_at=reward.proposed_at,
        decided_by=reward.decided_by, decided_at=reward.decided_at, paid_at=reward.paid_at,
    )  # fmt: skip


@router.get("", response_model=list[TipOut])
def list_tips(
    principal: CurrentPrincipal,
    session: DbSession,
    state: str | None = None,
    level: str | None = None,
    open: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    after_id: int | None = None,
) -> list[TipOut]:
    found = tips.list_tips(
        session, actor=principal, state=state, level=level, is_open=open, limit=limit,
        after_id=after_id,
    )  # fmt: skip
    return tip_outs(session, found)


@router.get("/statistics")
def statistics(principal: CurrentPrincipal, session: DbSession) -> dict[str, object]:
    """Counts by state, category, triage level, outcome and channel; rewards by status."""
    return tips_rewards.statistics(session, actor=principal)


@router.get("/rewards", response_model=list[RewardOut])
def rewards(
    principal: CurrentPrincipal, session: DbSession, status: str | None = None
) -> list[RewardOut]:
    return [
        reward_out(r, n)
        for r, n in tips_rewards.list_rewards(session, actor=principal, status=status)
    ]


@router.get("/ledger")
def ledger(principal: CurrentPrincipal, session: DbSession) -> dict[str, object]:
    """Reward ledger balances and the checks that it balances."""
    return tips_rewards.ledger(session, actor=principal)


@router.post("/rewards/pay", response_model=RewardOut)
def pay(body: PayIn, principal: CurrentPrincipal, session: DbSession) -> RewardOut:
    """Pay the approved reward to whoever presents the tip number and PIN."""
    reward = tips_rewards.pay(session, number=body.number, pin=body.pin, actor=principal)
    return reward_out(reward, body.number.strip())


@router.post("/rewards/{reward_id}/decision", response_model=RewardOut)
def decide(
    reward_id: DbId, body: DecisionIn, principal: CurrentPrincipal, session: DbSession
) -> RewardOut:
    """Approve or reject a proposed reward; the proposer may not (four eyes)."""
    reward = tips_rewards.decide(
        session, reward_id=reward_id, approve=body.approve, note=body.note, actor=principal
    )
    case = session.get(Case, reward.case_id)
    return reward_out(reward, case.number if case else "")


@router.get("/{ref}", response_model=TipOut)
def get_tip(ref: str, principal: CurrentPrincipal, session: DbSession) -> TipOut:
    case, tip = tips.get_tip(session, case_key(ref), actor=principal)
    return tip_out(session, case, tip)


@router.post("/{ref}/steps", response_model=TipOut)
def step(ref: str, body: StepIn, principal: CurrentPrincipal, session: DbSession) -> TipOut:
    """triage (level, category), dismiss (reason), refer (unit_id), conclude (outcome)."""
    key = case_key(ref)
    case = tips.take(
        session, case_ref=key, name=body.transition, fields=body.fields, actor=principal
    )
    return tip_out(session, case, tips.get_tip(session, case.id, actor=principal)[1])


@router.post("/{ref}/messages", response_model=MessageOut, status_code=201)
def reply(
    ref: str, body: StaffMessageIn, principal: CurrentPrincipal, session: DbSession
) -> MessageOut:
    """Reply to the tipster (they read it with the number and PIN)."""
    key = case_key(ref)
    row = tips.add_staff_message(session, case_ref=key, text=body.text, actor=principal)
    return MessageOut(id=row.id, at=row.at, sender=row.sender, body=row.body)


@router.get("/{ref}/attachments/{attachment_id}")
def attachment(
    ref: str, attachment_id: DbId, principal: CurrentPrincipal, session: DbSession
) -> Response:
    key = case_key(ref)
    row = tips.get_attachment(session, case_ref=key, attachment_id=attachment_id, actor=principal)
    return Response(row.data, media_type=row.content_type)


@router.post("/{ref}/rewards", response_model=RewardOut, status_code=201)
def propose(ref: str, body: RewardIn, principal: CurrentPrincipal, session: DbSession) -> RewardOut:
    """Propose a reward in the tier the outcome earns (another person approves it)."""
    key = case_key(ref)
    reward = tips_rewards.propose(
        session, case_ref=key, amount_yuan=body.amount_yuan, note=body.note, actor=principal
    )
    case = session.get(Case, reward.case_id)
    return reward_out(reward, case.number if case else "")
