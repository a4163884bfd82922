"""What the apps layer puts into an experiment once the cluster layer has built it: development copies of
production's apps (``like: production``) and, with ``restoreFrom``, the restore drill of production's backups.

Each is parented to the ``Experiment`` component, as production's apps are to ``Production``, so the cluster
layer needs nothing from this one.
"""

import pulumi

from components.apps.catalog import development_copies, production_apps
from components.apps.production import applications
from components.apps.restore_drill import DrillSeams, RestoreDrill, RestoreDrillArgs
from components.clusters.experiments import Experiment
from components.config import ExperimentSettings


def install(experiment: Experiment, settings: ExperimentSettings, drill: DrillSeams | None) -> RestoreDrill | None:
    """The experiment's apps; its restore drill, if it asks for one and the lab can read production's backups."""
    if settings.like == "production":
        applications(experiment, experiment.cluster, development_copies(), depends_on=[])
    if not settings.restore_from or drill is None:
        return None
    return RestoreDrill(experiment.cluster.args.name, RestoreDrillArgs(
        experiment.cluster, experiment.guest, settings.restore_from,
        tuple(app.namespace for app in production_apps(None)), drill, sole=experiment.sole),
        opts=pulumi.ResourceOptions(parent=experiment))
