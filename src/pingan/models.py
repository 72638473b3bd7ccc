"""Imports every domain's tables so ``Base.metadata`` knows the whole schema.

Used by Alembic and by tests that compare the migrations with the models.
"""

from pingan.alerts import models as alerts_models
from pingan.cases import models as cases_models
from pingan.dispatch import models as dispatch_models
from pingan.incidents import models as incidents_models
from pingan.kit import audit, jobs, meta
from pingan.kit.db import Base
from pingan.org import models as org_models
from pingan.places import models as places_models
from pingan.sim import models as sim_models

__all__ = [
    "Base",
    "alerts_models",
    "audit",
    "cases_models",
    "dispatch_models",
    "incidents_models",
    "jobs",
    "meta",
    "org_models",
    "places_models",
    "sim_models",
]
