"""cameras

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pingan.kit.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _is_postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    op.create_table(
        "camera_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=50), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_owners")),
        sa.UniqueConstraint("code", name=op.f("uq_camera_owners_code")),
    )
    op.create_table(
        "camera_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_plans")),
    )
    op.create_table(
        "camera_owner_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["camera_owners.id"],
            name=op.f("fk_camera_owner_users_owner_id_camera_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_camera_owner_users_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_owner_users")),
        sa.UniqueConstraint(
            "owner_id", "user_id", name=op.f("uq_camera_owner_users_owner_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_camera_owner_users_owner_id"), "camera_owner_users", ["owner_id"], unique=False
    )
    op.create_index(
        op.f("ix_camera_owner_users_user_id"), "camera_owner_users", ["user_id"], unique=False
    )
    op.create_table(
        "cameras",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("owner_camera_id", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("location", pingan.kit.db.Geometry(geometry_type="POINT"), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=False),
        sa.Column("fov_deg", sa.Float(), nullable=False),
        sa.Column("range_m", sa.Float(), nullable=False),
        sa.Column("resolution", sa.String(length=30), nullable=True),
        sa.Column("ptz", sa.Boolean(), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("access_level", sa.String(length=20), nullable=False),
        sa.Column("sharing_contact", sa.String(length=200), nullable=True),
        sa.Column("created_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", pingan.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_cameras_org_unit_id_org_units")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["camera_owners.id"], name=op.f("fk_cameras_owner_id_camera_owners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
        sa.UniqueConstraint(
            "owner_id", "owner_camera_id", name=op.f("uq_cameras_owner_id_owner_camera_id")
        ),
    )
    if _is_postgres():
        op.create_index(
            "ix_cameras_location", "cameras", ["location"], unique=False, postgresql_using="gist"
        )
    op.create_index(op.f("ix_cameras_network"), "cameras", ["network"], unique=False)
    op.create_index(op.f("ix_cameras_org_unit_id"), "cameras", ["org_unit_id"], unique=False)
    op.create_index(op.f("ix_cameras_owner_id"), "cameras", ["owner_id"], unique=False)
    op.create_index(op.f("ix_cameras_status"), "cameras", ["status"], unique=False)
    op.create_index("ix_cameras_xy", "cameras", ["x", "y"], unique=False)
    op.create_table(
        "camera_street_segments",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("edge_id", _BIGINT_PK, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("road_class", sa.String(length=20), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("geom", pingan.kit.db.Geometry(geometry_type="LINESTRING"), nullable=False),
        sa.Column("cover_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edge_id"],
            ["road_edges.id"],
            name=op.f("fk_camera_street_segments_edge_id_road_edges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["org_units.id"],
            name=op.f("fk_camera_street_segments_grid_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_street_segments")),
        sa.UniqueConstraint("edge_id", "seq", name=op.f("uq_camera_street_segments_edge_id_seq")),
    )
    op.create_index(
        op.f("ix_camera_street_segments_grid_id"),
        "camera_street_segments",
        ["grid_id"],
        unique=False,
    )
    op.create_index(
        "ix_camera_street_segments_xy", "camera_street_segments", ["x", "y"], unique=False
    )

    op.create_table(
        "camera_building_footprints",
        sa.Column("id", _BIGINT_PK, nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("geom", pingan.kit.db.Geometry(geometry_type="GEOMETRY"), nullable=False),
        sa.Column("cx", sa.Float(), nullable=False),
        sa.Column("cy", sa.Float(), nullable=False),
        sa.Column("reach", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_building_footprints")),
    )
    op.create_index(
        op.f("ix_camera_building_footprints_source"),
        "camera_building_footprints",
        ["source"],
        unique=False,
    )
    op.create_index(
        "ix_camera_building_footprints_cxy",
        "camera_building_footprints",
        ["cx", "cy"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_camera_building_footprints_cxy", table_name="camera_building_footprints")
    op.drop_index(
        op.f("ix_camera_building_footprints_source"), table_name="camera_building_footprints"
    )
    op.drop_table("camera_building_footprints")
    op.drop_index("ix_camera_street_segments_xy", table_name="camera_street_segments")
    op.drop_index(op.f("ix_camera_street_segments_grid_id"), table_name="camera_street_segments")
    op.drop_table("camera_street_segments")
    op.drop_index("ix_cameras_xy", table_name="cameras")
    op.drop_index(op.f("ix_cameras_status"), table_name="cameras")
    op.drop_index(op.f("ix_cameras_owner_id"), table_name="cameras")
    op.drop_index(op.f("ix_cameras_org_unit_id"), table_name="cameras")
    op.drop_index(op.f("ix_cameras_network"), table_name="cameras")
    if _is_postgres():
        op.drop_index("ix_cameras_location", table_name="cameras")
    op.drop_table("cameras")
    op.drop_index(op.f("ix_camera_owner_users_user_id"), table_name="camera_owner_users")
    op.drop_index(op.f("ix_camera_owner_users_owner_id"), table_name="camera_owner_users")
    op.drop_table("camera_owner_users")
    op.drop_table("camera_plans")
    op.drop_table("camera_owners")
