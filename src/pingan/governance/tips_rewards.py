"""Rewards for tips: tiers by outcome, four-eyes approval, payment against number + PIN.

"Big matter, big reward": the outcome of the tip sets the tier and each tier
has a range (in yuan) the proposer picks from. A second person approves (the
proposer never can). The tipster is paid against the tip number and the PIN
alone: the payment records who paid and when, never who was paid.

The ledger is double entry in fen: approval debits ``reward_expense`` and
credits ``rewards_payable``; payment debits ``rewards_payable`` and credits
``cash``. Every transaction sums to zero, so the whole ledger does, and the
payable balance equals the approved rewards not yet paid.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.models import Case, CaseCategory
from pingan.cases.service import add_event
from pingan.governance.tips import _load, get_tip, open_tip
from pingan.governance.tips import scope_clause as tips_scope
from pingan.governance.tips_models import RewardLedgerEntry, Tip, TipReward
from pingan.governance.tips_schemas import RewardPublic
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

# outcome -> (tier, lowest, highest) in yuan
TIERS: dict[str, tuple[str, int, int]] = {
    "major_confirmed": ("A", 10_000, 100_000),
    "confirmed": ("B", 2_000, 10_000),
    "partly_confirmed": ("C", 200, 2_000),
}
PROPOSED, APPROVED, REJECTED, PAID = "proposed", "approved", "rejected", "paid"
EXPENSE, PAYABLE, CASH = "reward_expense", "rewards_payable", "cash"


def person_of(actor: str) -> str:
    """The person behind an actor string: user:alice and apikey:3:alice are both alice."""
    return actor.rsplit(":", 1)[-1]


def _post(
    session: Session, reward: TipReward, lines: list[tuple[str, int]], memo: str, at: dt.datetime
) -> str:
    assert sum(amount for _a, amount in lines) == 0, "a ledger transaction must balance"
    txn = secrets.token_hex(8)
    for account, amount in lines:
        session.add(
            RewardLedgerEntry(
                txn=txn, reward_id=reward.id, at=at, account=account, amount_fen=amount, memo=memo
            )
        )
    return txn


def propose(
    session: Session, *, case_ref: int | str, actor: Principal, amount_yuan: float | None = None,
    note: str = "", now: dt.datetime | None = None,
) -> TipReward:  # fmt: skip
    now = now or utcnow()
    case, tip = get_tip(session, case_ref, actor=actor, purpose="propose_reward")
    actor.require(Perm.TIPS_HANDLE, case.unit_path)
    if case.state != "concluded" or tip.outcome is None:
        raise Conflict("a reward is proposed for a concluded tip", field="case")
    if tip.outcome not in TIERS:
        raise Conflict(f"the outcome {tip.outcome!r} earns no reward", field="case")
    live = session.scalar(
        select(TipReward.id).where(
            TipReward.case_id == case.id, TipReward.status.in_((PROPOSED, APPROVED, PAID))
        )
    )
    if live is not None:
        raise Conflict(f"tip {case.number} already has reward {live}", field="case")
    tier, low, high = TIERS[tip.outcome]
    amount = float(low if amount_yuan is None else amount_yuan)
    if not low <= amount <= high:
        raise ValidationFailed(
            f"a tier {tier} reward is between {low} and {high} yuan", field="amount_yuan"
        )
    reward = TipReward(
        case_id=case.id, tier=tier, amount_fen=round(amount * 100), status=PROPOSED,
        proposed_by=actor.actor, proposed_at=now, note=note,
    )  # fmt: skip
    session.add(reward)
    session.flush()
    add_event(session, case, kind="reward", actor=actor.actor, at=now,
              detail={"reward_id": reward.id, "status": PROPOSED, "tier": tier})  # fmt: skip
    return reward


def _reward(session: Session, reward_id: int, actor: Principal) -> tuple[TipReward, Case]:
    reward = session.get(TipReward, reward_id)
    case = session.get(Case, reward.case_id) if reward is not None else None
    if reward is None or case is None or not actor.can(Perm.TIPS_READ, case.unit_path):
        raise NotFound(f"reward {reward_id} not found")
    return reward, case


def decide(
    session: Session, *, reward_id: int, approve: bool, actor: Principal, note: str = "",
    now: dt.datetime | None = None,
) -> TipReward:  # fmt: skip
    """Approve or reject, by someone other than the proposer (four eyes)."""
    now = now or utcnow()
    reward, case = _reward(session, reward_id, actor)
    actor.require(Perm.TIPS_REWARD, case.unit_path)
    if reward.status != PROPOSED:
        raise Conflict(f"reward {reward.id} is {reward.status}, not proposed", field="reward")
    if person_of(actor.actor) == person_of(reward.proposed_by):
        raise Forbidden("four eyes: the person who proposed a reward may not approve it")
    reward.status = APPROVED if approve else REJECTED
    reward.decided_by, reward.decided_at = actor.actor, now
    if note:
        reward.note = note[:500]
    if approve:
        _post(session, reward, [(EXPENSE, reward.amount_fen), (PAYABLE, -reward.amount_fen)],
              f"approved {case.number}", now)  # fmt: skip
    add_event(session, case, kind="reward", actor=actor.actor, at=now,
              detail={"reward_id": reward.id, "status": reward.status})  # fmt: skip
    return reward


def pay(
    session: Session, *, number: str, pin: str, actor: Principal, now: dt.datetime | None = None
) -> TipReward:
    """Pay the approved reward of the tip whose number and PIN the tipster presents."""
    now = now or utcnow()
    try:
        case, _tip = _load(session, number)
    except NotFound:
        raise NotFound("no tip with this number and PIN") from None
    actor.require(Perm.TIPS_REWARD, case.unit_path)
    case, _tip = open_tip(session, number=number, pin=pin, now=now)
    reward = session.scalar(
        select(TipReward).where(TipReward.case_id == case.id, TipReward.status == APPROVED)
    )
    if reward is None:
        raise Conflict(f"tip {case.number} has no approved reward to pay", field="number")
    reward.status, reward.paid_by, reward.paid_at = PAID, actor.actor, now
    _post(session, reward, [(PAYABLE, reward.amount_fen), (CASH, -reward.amount_fen)],
          f"paid {case.number}", now)  # fmt: skip
    add_event(session, case, kind="reward", actor=actor.actor, at=now,
              detail={"reward_id": reward.id, "status": PAID})  # fmt: skip
    return reward


def public_rewards(session: Session, case_id: int) -> list[RewardPublic]:
    rows = session.scalars(
        select(TipReward)
        .where(TipReward.case_id == case_id, TipReward.status != PROPOSED)
        .order_by(TipReward.id)
    )
    return [RewardPublic(tier=r.tier, amount_yuan=r.amount_fen / 100, status=r.status)
            for r in rows]  # fmt: skip


def list_rewards(
    session: Session, *, actor: Principal, status: str | None = None
) -> list[tuple[TipReward, str]]:
    stmt = (
        select(TipReward, Case.number)
        .join(Case, Case.id == TipReward.case_id)
        .where(tips_scope(actor))
        .order_by(TipReward.id)
    )
    if status is not None:
        stmt = stmt.where(TipReward.status == status)
    return [(r, str(n)) for r, n in session.execute(stmt)]


def ledger(session: Session, *, actor: Principal) -> dict[str, Any]:
    """Balances by account, with the checks that make the ledger trustworthy."""
    actor.require(Perm.TIPS_REWARD)
    entries = session.execute(
        select(RewardLedgerEntry.txn, RewardLedgerEntry.account, RewardLedgerEntry.amount_fen)
    ).all()
    balances: Counter[str] = Counter()
    per_txn: dict[str, int] = defaultdict(int)
    for txn, account, amount in entries:
        balances[str(account)] += int(amount)
        per_txn[str(txn)] += int(amount)
    owed = session.scalars(select(TipReward.amount_fen).where(TipReward.status == APPROVED))
    paid = session.scalars(select(TipReward.amount_fen).where(TipReward.status == PAID))
    owed_fen, paid_fen = sum(owed), sum(paid)
    return {
        "balances_fen": {a: balances.get(a, 0) for a in (EXPENSE, PAYABLE, CASH)},
        "transactions": len(per_txn),
        "entries": len(entries),
        "balanced": sum(balances.values()) == 0 and all(v == 0 for v in per_txn.values()),
        "payable_matches_approved": -balances.get(PAYABLE, 0) == owed_fen,
        "cash_matches_paid": -balances.get(CASH, 0) == paid_fen,
        "approved_unpaid_fen": owed_fen,
        "paid_fen": paid_fen,
    }


def statistics(session: Session, *, actor: Principal) -> dict[str, Any]:
    rows = session.execute(
        select(Case.state, CaseCategory.code, Tip.level, Tip.outcome, Tip.channel)
        .join(Tip, Tip.case_id == Case.id)
        .join(CaseCategory, CaseCategory.id == Case.category_id)
        .where(tips_scope(actor))
    ).all()
    rewards = session.execute(
        select(TipReward.status, TipReward.amount_fen)
        .join(Case, Case.id == TipReward.case_id)
        .where(tips_scope(actor))
    ).all()
    by_status: dict[str, dict[str, float]] = {}
    for status, amount in rewards:
        slot = by_status.setdefault(str(status), {"count": 0, "amount_yuan": 0.0})
        slot["count"] += 1
        slot["amount_yuan"] += int(amount) / 100

    def count(i: int) -> dict[str, int]:
        return dict(sorted(Counter(str(r[i] or "") for r in rows).items()))

    return {
        "total": len(rows),
        "by_state": count(0),
        "by_category": count(1),
        "by_level": count(2),
        "by_outcome": count(3),
        "by_channel": count(4),
        "rewards": by_status,
    }
