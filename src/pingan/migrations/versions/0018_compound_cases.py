"""compound remediation cases

Compound remediation projects become cases of type ``compound_remediation``;
each row of the old register is moved into a case here (state from its
status, its steps linked to the case, the clock of its state started). And
escalation markers are kept once per clock budget, so that extending a
deadline re-arms the reminder and the breach rule.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:00:00
"""

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import pingan.kit.db
from pingan.cases.calendar import WorkCalendar

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration:0018"
# As in pingan.cases.workflows.compound_remediation at the time of writing.
CATEGORIES = [
    ("compound.small", "三无小区整治（小型）", "Compound remediation, small", 300, 120),
    ("compound.medium", "三无小区整治（中型）", "Compound remediation, medium", 1000, 180),
    ("compound.large", "三无小区整治（大型）", "Compound remediation, large", 10**9, 270),
]
STATE_OF_STATUS = {"planned": "registered", "in_progress": "in_progress", "completed": "remediated"}
SURVEY_WORKING_DAYS = 20
NEAR_FRACTION = 0.8
SUBDISTRICT_DEPTH = 2  # city, district, subdistrict, community, grid

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = pingan.kit.db.UTCDateTime(timezone=True)

cases = sa.table(
    "cases", *(sa.column(n) for n in (
        "number", "case_type", "state", "is_open", "category_id", "title", "description",
        "address", "lon", "lat", "grid_id", "grid_path", "unit_id", "unit_path", "department",
        "source", "public_token", "supervision_flag", "status_note")),
    sa.column("id", BigId), sa.column("created_at", When), sa.column("updated_at", When),
    sa.column("closed_at", When),
)  # fmt: skip
events = sa.table(
    "case_events", sa.column("case_id", BigId), sa.column("at", When), sa.column("actor"),
    sa.column("kind"), sa.column("from_state"), sa.column("to_state"), sa.column("detail"),
)  # fmt: skip
clocks = sa.table(
    "case_clocks", sa.column("case_id", BigId), sa.column("name"), sa.column("basis"),
    sa.column("total_s"), sa.column("remaining_s"), sa.column("started_at", When),
    sa.column("running_since", When), sa.column("due_at", When), sa.column("warn_at", When),
    sa.column("status"),
)  # fmt: skip
compounds = sa.table(
    "residential_compounds", sa.column("id"), sa.column("code"), sa.column("name_zh"),
    sa.column("households"), sa.column("grid_id"),
    sa.column("geom", pingan.kit.db.Geometry("POLYGON")),
)  # fmt: skip
remediations = sa.table(
    "compound_remediations", sa.column("id"), sa.column("compound_id"), sa.column("case_id"),
    sa.column("grid_path"), sa.column("status"), sa.column("started_on", sa.Date()),
    sa.column("completed_on", sa.Date()), sa.column("created_at", When),
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("case_escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_s", sa.Integer(), nullable=True))
    # Markers applied so far belong to the clock's budget as it stands.
    op.execute(
        "UPDATE case_escalations SET budget_s = "
        "(SELECT total_s FROM case_clocks WHERE case_clocks.id = case_escalations.clock_id)"
    )
    with op.batch_alter_table("case_escalations", schema=None) as batch_op:
        batch_op.alter_column("budget_s", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_case_escalations_clock_id_rule", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_case_escalations_clock_id_rule_budget_s"),
            ["clock_id", "rule", "budget_s"],
        )

    saved = _save_steps()
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", BigId, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_compound_remediations_case_id_cases"), "cases", ["case_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch_op.create_unique_constraint(
            batch_op.f("uq_compound_remediations_case_id"), ["case_id"]
        )
    with op.batch_alter_table("compound_remediation_steps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", BigId, nullable=True))
        batch_op.add_column(sa.Column("attachment_id", BigId, nullable=True))

    _move_register_into_cases(op.get_bind())
    # The state lives in the case now.
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.drop_index("ix_compound_remediations_status")
        batch_op.drop_column("status")
        batch_op.drop_column("started_on")
        batch_op.drop_column("completed_on")
    _restore_steps(saved)

    with op.batch_alter_table("compound_remediation_steps", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=BigId, nullable=False)
        batch_op.drop_constraint(
            "uq_compound_remediation_steps_remediation_id_step", type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_compound_remediation_steps_case_id_step"), ["case_id", "step"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_compound_remediation_steps_case_id_cases"), "cases", ["case_id"],
            ["id"], ondelete="CASCADE",
        )  # fmt: skip
        batch_op.create_foreign_key(
            batch_op.f("fk_compound_remediation_steps_attachment_id_case_attachments"),
            "case_attachments", ["attachment_id"], ["id"], ondelete="SET NULL",
        )  # fmt: skip
        batch_op.create_index(
            batch_op.f("ix_compound_remediation_steps_case_id"), ["case_id"], unique=False
        )


def _save_steps() -> list[dict[str, object]]:
    """The steps, read before ``compound_remediations`` is rebuilt.

    On SQLite a batch operation rebuilds the table (a DROP TABLE), and with
    foreign keys on, that deletes the steps through their ON DELETE CASCADE.
    """
    rows = op.get_bind().execute(sa.text("SELECT * FROM compound_remediation_steps"))
    return [dict(r._mapping) for r in rows]


def _restore_steps(saved: list[dict[str, object]]) -> None:
    """Put the saved steps back, linked to their compound's case where it has one."""
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM compound_remediation_steps"))
    columns = [c["name"] for c in sa.inspect(conn).get_columns("compound_remediation_steps")]
    case_of: dict[object, object] = {}
    if "case_id" in columns:
        found = conn.execute(sa.text("SELECT id, case_id FROM compound_remediations"))
        case_of = {r: c for r, c in found}
    for row in saved:
        values = {k: v for k, v in row.items() if k in columns}
        if "case_id" in columns:
            values["case_id"] = case_of.get(row["remediation_id"])
        names = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        conn.execute(
            sa.text(f"INSERT INTO compound_remediation_steps ({names}) VALUES ({marks})"), values
        )


def _category_ids(conn: sa.Connection) -> dict[str, int]:
    table = sa.table(
        "case_categories", sa.column("id"), sa.column("case_type"), sa.column("code"),
        sa.column("kind"), sa.column("name_zh"), sa.column("name_en"), sa.column("department"),
        sa.column("handling_level"), sa.column("deadline_amount"), sa.column("deadline_basis"),
        sa.column("active"),
    )  # fmt: skip
    ids: dict[str, int] = {}
    for code, zh, en, _most, days in CATEGORIES:
        found = conn.scalar(sa.select(table.c.id).where(table.c.code == code))
        if found is None:
            found = conn.execute(
                table.insert().values(
                    case_type="compound_remediation", code=code, kind="project", name_zh=zh,
                    name_en=en, department="community_governance", handling_level="subdistrict",
                    deadline_amount=days, deadline_basis="calendar_days", active=True,
                ).returning(table.c.id)
            ).scalar_one()  # fmt: skip
        ids[code] = int(found)
    return ids


def _next_number(conn: sa.Connection, year: int) -> str:
    counters = sa.table("case_counters", sa.column("prefix"), sa.column("year"), sa.column("last"))
    where = (counters.c.prefix == "XQ") & (counters.c.year == year)
    last = conn.scalar(sa.select(counters.c.last).where(where))
    if last is None:
        conn.execute(counters.insert().values(prefix="XQ", year=year, last=1))
        last = 0
    else:
        conn.execute(counters.update().where(where).values(last=last + 1))
    return f"XQ-{year}-{last + 1:06d}"


def _clock(
    conn: sa.Connection, case_id: int, name: str, basis: str, amount: int, start: dt.datetime,
    cal: WorkCalendar,
) -> None:  # fmt: skip
    """A running clock started at ``start``, scheduled as ``pingan.cases.clocks`` does."""
    total, due = cal.initial(basis, start, amount)
    until_warn = max(0, total - round(total * (1.0 - NEAR_FRACTION)))
    conn.execute(
        clocks.insert().values(
            case_id=case_id, name=name, basis=basis, total_s=total, remaining_s=total,
            started_at=start, running_since=start, due_at=due,
            warn_at=cal.advance(basis, start, until_warn), status="running",
        )
    )  # fmt: skip


def _move_register_into_cases(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.select(remediations, compounds.c.code, compounds.c.name_zh, compounds.c.households,
                  compounds.c.grid_id, compounds.c.geom)
        .join(compounds, compounds.c.id == remediations.c.compound_id)
        .order_by(remediations.c.id)
    ).all()  # fmt: skip
    if not rows:
        return
    from pingan.settings import get_settings

    zone = ZoneInfo(get_settings().city_timezone)
    holidays = conn.execute(sa.text("SELECT day, is_workday FROM case_holidays")).all()
    cal = WorkCalendar(zone, {_day(d): bool(w) for d, w in holidays})
    categories = _category_ids(conn)
    paths: dict[int, str] = {
        int(i): str(p) for i, p in conn.execute(sa.text("SELECT id, path FROM org_units"))
    }
    for r in rows:
        grid_id = r.grid_id or int(r.grid_path.strip("/").split("/")[-1])
        ids = [int(p) for p in paths[grid_id].strip("/").split("/") if p]
        lead = ids[min(SUBDISTRICT_DEPTH, len(ids) - 1)]
        code = next(c for c, _zh, _en, most, _d in CATEGORIES if r.households <= most)
        state = STATE_OF_STATUS[r.status]
        created: dt.datetime = r.created_at
        closed = None
        if state == "remediated" and r.completed_on is not None:
            closed = dt.datetime.combine(r.completed_on, dt.time(12), zone).astimezone(dt.UTC)
        centre = r.geom.representative_point() if r.geom is not None else None
        case_id = conn.execute(
            cases.insert().values(
                number=_next_number(conn, created.astimezone(zone).year),
                case_type="compound_remediation", state=state, is_open=closed is None,
                category_id=categories[code], title=f"{r.name_zh} 三无小区整治", description="",
                address=r.name_zh, lon=centre.x if centre else None,
                lat=centre.y if centre else None, grid_id=grid_id, grid_path=paths[grid_id],
                unit_id=lead, unit_path=paths[lead], department="community_governance",
                source="register", public_token=secrets.token_urlsafe(16),
                supervision_flag=False, status_note="", created_at=created,
                updated_at=closed or created, closed_at=closed,
            ).returning(cases.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            events.insert().values(
                case_id=case_id, at=created, actor=ACTOR, kind="created", from_state=None,
                to_state="registered", detail=json.dumps({"category": code}),
            )
        )  # fmt: skip
        if state != "registered":
            conn.execute(
                events.insert().values(
                    case_id=case_id, at=closed or created, actor=ACTOR, kind="transition",
                    from_state="registered", to_state=state,
                    detail=json.dumps({"migrated_from_register": r.status}),
                )
            )  # fmt: skip
        if state == "registered":
            _clock(conn, case_id, "survey", "working_days", SURVEY_WORKING_DAYS, created, cal)
        elif state == "in_progress":
            days = next(d for c, _zh, _en, _m, d in CATEGORIES if c == code)
            start = created
            if r.started_on is not None:
                start = dt.datetime.combine(r.started_on, dt.time(), zone).astimezone(dt.UTC)
            _clock(conn, case_id, "remediate", "calendar_days", days, start, cal)
        conn.execute(remediations.update().where(remediations.c.id == r.id).values(case_id=case_id))
        conn.execute(
            sa.text("UPDATE compound_remediation_steps SET case_id = :c WHERE remediation_id = :r"),
            {"c": case_id, "r": r.id},
        )


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def downgrade() -> None:
    # Steps of a compound's earlier (cancelled) projects would break the old unique key.
    op.execute(
        "DELETE FROM compound_remediation_steps WHERE case_id <> (SELECT r.case_id FROM "
        "compound_remediations r WHERE r.id = compound_remediation_steps.remediation_id)"
    )
    saved = _save_steps()
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("started_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
    # Back to the register's statuses; the cases stay (their history is kept).
    op.execute(
        "UPDATE compound_remediations SET status = COALESCE((SELECT CASE state "
        "WHEN 'remediated' THEN 'completed' WHEN 'registered' THEN 'planned' "
        "WHEN 'surveyed' THEN 'planned' ELSE 'in_progress' END FROM cases "
        "WHERE cases.id = compound_remediations.case_id), 'planned')"
    )
    days: dict[object, list[dt.date]] = {}
    for row in saved:
        days.setdefault(row["remediation_id"], []).append(_day(row["done_on"]))
    for remediation_id, done in days.items():
        op.get_bind().execute(
            sa.text(
                "UPDATE compound_remediations SET started_on = :a, completed_on = CASE "
                "WHEN status = 'completed' THEN :b END WHERE id = :r"
            ),
            {"a": min(done), "b": max(done), "r": remediation_id},
        )
    with op.batch_alter_table("compound_remediations", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_index(batch_op.f("ix_compound_remediations_status"), ["status"])
        batch_op.drop_constraint("uq_compound_remediations_case_id", type_="unique")
        batch_op.drop_constraint("fk_compound_remediations_case_id_cases", type_="foreignkey")
        batch_op.drop_column("case_id")
    with op.batch_alter_table("compound_remediation_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_compound_remediation_steps_case_id")
        batch_op.drop_constraint("uq_compound_remediation_steps_case_id_step", type_="unique")
        batch_op.drop_constraint("fk_compound_remediation_steps_case_id_cases", type_="foreignkey")
        batch_op.drop_constraint(
            "fk_compound_remediation_steps_attachment_id_case_attachments", type_="foreignkey"
        )
        batch_op.drop_column("case_id")
        batch_op.drop_column("attachment_id")
        batch_op.create_unique_constraint(
            batch_op.f("uq_compound_remediation_steps_remediation_id_step"),
            ["remediation_id", "step"],
        )
    _restore_steps(saved)
    # The old register has no place for the projects' cases; an upgrade makes them anew.
    op.execute("DELETE FROM cases WHERE case_type = 'compound_remediation'")
    # Once per clock and rule again: keep the latest marker of each.
    op.execute(
        "DELETE FROM case_escalations WHERE id NOT IN (SELECT MAX(id) FROM case_escalations "
        "GROUP BY clock_id, rule)"
    )
    with op.batch_alter_table("case_escalations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_case_escalations_clock_id_rule_budget_s", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_case_escalations_clock_id_rule"), ["clock_id", "rule"]
        )
        batch_op.drop_column("budget_s")
