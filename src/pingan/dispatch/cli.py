"""``pingan import roads``: load a road network from an OpenStreetMap .osm.pbf file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from pingan.dispatch.roads import import_roads
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.principal import Principal


def register_import(import_app: typer.Typer) -> None:
    import_app.command("roads")(import_roads_command)


def import_roads_command(
    path: Path = typer.Argument(..., help="An OpenStreetMap extract (.osm.pbf)"),
    replace: bool = typer.Option(
        False, "--replace", help="Delete roads loaded earlier from a file of the same name first"
    ),
) -> None:
    """Load the drivable road network from an OpenStreetMap .osm.pbf file.

    Needs pyrosm (pip install 'pingan[osm]'). Roads are tagged with the
    source osm:<file name>; loading the same file again needs --replace.
    Speeds come from maxspeed where it is a number, else the road class's
    default; lengths are geodesic. One transaction: all or nothing.
    """
    actor = Principal.system(f"cli:{operator_name()}")
    with (
        cli_session() as session,
        err_console.status(f"reading {escape(path.name)}") as status,
    ):
        result = import_roads(
            session,
            path,
            actor=actor,
            replace=replace,
            on_stage=lambda stage: status.update(escape(stage)),
        )
    console.print(f"loaded {escape(result.source)} (metric CRS {result.crs})")
    table = Table("nodes", "edges", "replaced edges", "dropped edges")
    table.add_row(
        str(result.nodes), str(result.edges), str(result.replaced_edges), str(result.dropped_edges)
    )
    console.print(table)


# --- pingan dispatch ---------------------------------------------------------

dispatch_app = typer.Typer(
    help="Responders, recommendation, dispatch and escalation.", no_args_is_help=True
)


@dispatch_app.command("seed-responders")
def seed_responders_command(
    seed: int = typer.Option(1, help="Seed: the same seed gives the same roster"),
    available_share: float = typer.Option(0.8, min=0.0, max=1.0, help="Share on duty"),
) -> None:
    """Register responders and quick-response teams across the synthetic city's grids."""
    from pingan.dispatch.seed import seed_responders

    actor = Principal.system(f"cli:{operator_name()}")
    with cli_session() as session:
        report = seed_responders(session, actor=actor, seed=seed, available_share=available_share)
    console.print(
        f"{report.responders} responders ({report.available} available), {report.units} teams"
    )


@dispatch_app.command("recommend")
def recommend_command(
    incident_id: int = typer.Argument(..., help="Incident to recommend responders for"),
    k: int = typer.Option(5, "-k", "--k", min=1, max=50, help="How many"),
    tier: int | None = typer.Option(None, min=1, max=3, help="Only this tier"),
    skill: str | None = typer.Option(None, help="Only responders with this skill"),
) -> None:
    """The k best available responders for an incident by road travel time."""
    from pingan.dispatch.assignments import incident_for_dispatch
    from pingan.dispatch.recommend import Filters, recommend
    from pingan.org.permissions import Perm

    actor = Principal.system(f"cli:{operator_name()}")
    with cli_session() as session:
        incident, _ = incident_for_dispatch(session, incident_id, actor, Perm.DISPATCH_READ)
        found = recommend(
            session, lon=incident.lon, lat=incident.lat, actor=actor, k=k,
            filters=Filters(tier=tier, skill=skill), with_routes=False,
        )  # fmt: skip
    table = Table("responder", "name", "tier", "kind", "ETA s", "straight m")
    for c in found:
        table.add_row(
            str(c.responder_id), escape(c.display_name), str(c.tier), c.kind,
            f"{c.eta_s:.0f}", f"{c.straight_m:.0f}",
        )  # fmt: skip
    console.print(table)


@dispatch_app.command("run-escalations")
def run_escalations_command() -> None:
    """Time out unacknowledged assignments past their deadline and send the next candidates."""
    from pingan.dispatch.assignments import run_dispatch_escalations
    from pingan.kit.db import get_engine

    report = run_dispatch_escalations(get_engine())
    console.print(
        f"timed out {report.timed_out}, replaced {report.replaced}, "
        f"to supervisor {report.to_supervisor}"
    )


@dispatch_app.command("simulate")
def simulate_command(
    hours: float = typer.Option(24.0, min=0.1, max=24 * 14, help="Hours of incidents to replay"),
    seed: int = typer.Option(1, help="Seed of the simulated responders' behaviour"),
    turnout_s: float = typer.Option(60.0, help="Turnout target (s)"),
    travel_s: float = typer.Option(240.0, help="Travel target (s)"),
) -> None:
    """Replay the last HOURS of the synthetic city's incidents through dispatch; print KPIs."""
    from pingan.dispatch.kpis import Targets
    from pingan.dispatch.simulate import simulate
    from pingan.kit.db import get_engine

    with err_console.status("simulating"):
        report = simulate(
            get_engine(), hours=hours, seed=seed,
            targets=Targets(turnout_s=turnout_s, travel_s=travel_s),
        )  # fmt: skip
    console.print(
        f"{report.incidents} incidents, {report.assignments} assignments, "
        f"{report.timed_out} timed out, {report.to_supervisor} to the supervisor"
    )
    table = Table("district", "tier", "n", "call→dispatch p50", "turnout p50", "≤ target",
                  "travel p50", "≤ target", "on scene p50")  # fmt: skip
    for row in report.kpis:
        iv = row.intervals
        table.add_row(
            str(row.district_id), str(row.tier), str(row.assignments),
            _fmt(iv["call_to_dispatch"].median_s), _fmt(iv["turnout"].median_s),
            _share(iv["turnout"].share_within), _fmt(iv["travel"].median_s),
            _share(iv["travel"].share_within), _fmt(iv["on_scene"].median_s),
        )  # fmt: skip
    console.print(table)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


@dispatch_app.command("preposition")
def preposition_command(
    p: int = typer.Option(3, "--p", min=1, help="How many standby posts"),
    objective: str = typer.Option("center", help="center (worst time) or median (total time)"),
    site_kind: str | None = typer.Option(None, help="Only key sites of this kind"),
) -> None:
    """Command mode: standby posts that minimise travel time to the event's key sites."""
    from pingan.dispatch.command import preposition

    actor = Principal.system(f"cli:{operator_name()}")
    with cli_session() as session:
        plan = preposition(session, actor=actor, p=p, objective=objective, site_kind=site_kind)
    how = "exact" if plan.exact else "local optimum"
    console.print(
        f"{plan.sites} sites: worst {plan.worst_s:.0f} s, mean {plan.mean_s:.0f} s ({how})"
    )
    table = Table("post", "lon", "lat", "at key site")
    for i, post in enumerate(plan.posts, 1):
        table.add_row(str(i), f"{post.lon:.5f}", f"{post.lat:.5f}", post.site_code or "-")
    console.print(table)
