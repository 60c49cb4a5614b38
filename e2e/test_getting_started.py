"""docs/getting-started.md as a user follows it: every ``bash`` block of the page, in order, in one shell, against
the kind cluster (with the image built here, whose name the page's first block sets). The page promises a frozen
gate, a denied release, an override that opens it and a release that then passes: each is checked in what the
commands printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from e2e.conftest import ROOT, Cluster

PAGE = ROOT / "docs" / "getting-started.md"


def commands() -> str:
    """The page's ``bash`` blocks, in order."""
    return "\n".join(re.findall(r"^```bash\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M))


def test_the_getting_started_page_works_as_written(cluster: Cluster, image: str) -> None:
    assert image.startswith("sre-operator:"), image  # the page's IMAGE_REPOSITORY and IMAGE_TAG
    tools = Path(str(cluster.kind.kubectl_path)).parent
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig),
           "PATH": f"{tools}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    cluster.kubectl("delete", "namespace", "demo", "--ignore-not-found", "--wait=true")
    script = "set -euo pipefail\nset -x\n" + commands()
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    said = done.stdout + done.stderr
    try:
        assert done.returncode == 0, said[-4000:]
        assert re.search(r"releasegate\.reliability\.dev/api\s+Frozen", said) or "condition met" in said, said[-4000:]
        # The first release is refused by the API server, naming the gate; the second passes after the override.
        assert "release gate demo/api" in said and "the release was denied" in said, said[-4000:]
        assert "kubectl sre override api -n demo" in said  # `why` says how to open it
        assert re.search(r"api: Open:", said), said[-4000:]  # `status --wait` saw it open
        assert "deployment.apps/api image updated" in said
        assert re.search(r"by \S+ until \S+: first release, no Prometheus yet", said), said[-4000:]
    finally:
        cluster.kubectl("delete", "namespace", "demo", "--wait=false", check=False)
