"""Imports every domain's tables so ``Base.metadata`` knows the whole schema.

Used by Alembic and by tests that compare the migrations with the models.
"""

from pingan.alerts import federation_models as alert_federation_models  # issue 4
from pingan.alerts import models as alerts_models
from pingan.alerts import webhooks_models as alert_webhooks_models  # issue 4
from pingan.cameras import health_models as camera_health_models
from pingan.cameras import models as cameras_models
from pingan.cases import models as cases_models
from pingan.dispatch import models as dispatch_models
from pingan.governance import (  # issue 8
    assessments_models,
    compounds_models,
    mediation_models,
    outreach_models,
    petitions_models,
    tips_models,
)
from pingan.incidents import models as incidents_models
from pingan.kit import audit, jobs, meta
from pingan.kit.db import Base
from pingan.org import models as org_models
from pingan.places import models as places_models
from pingan.reports import models as reports_models
from pingan.sim import models as sim_models

__all__ = [
    "Base",
    "alert_federation_models",
    "alert_webhooks_models",
    "alerts_models",
    "assessments_models",
    "audit",
    "camera_health_models",
    "cameras_models",
    "cases_models",
    "compounds_models",
    "dispatch_models",
    "incidents_models",
    "jobs",
    "mediation_models",
    "meta",
    "org_models",
    "outreach_models",
    "petitions_models",
    "places_models",
    "reports_models",
    "sim_models",
    "tips_models",
]
