"""One startup handler sets every operator setting."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from sre_operator.config import OperatorConfig
from sre_operator.handlers.state import CONFIG, GROUP, OperatorState
from sre_operator.k8s import Cluster, load_client


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.enabled = True
    settings.posting.level = logging.INFO
    settings.peering.standalone = not CONFIG.peering
    if CONFIG.peering:
        settings.peering.name = CONFIG.peering
        settings.peering.mandatory = True
    settings.watching.server_timeout = 600
    settings.networking.request_timeout = 60
    settings.execution.max_workers = 8
    # Read again at start: the timer interval was fixed at import, the rest may have been set since.
    config = OperatorConfig.from_environment()
    memo.state = OperatorState(config=config, cluster=Cluster(load_client(config.kubeconfig or None)))
