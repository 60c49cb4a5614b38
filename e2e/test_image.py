"""The operator's image as users get it: built from the Dockerfile, run as a non-root user with no network,
rendering and validating the plans it ships, and small."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e.conftest import ROOT

IMAGE_GOAL_MB = 200  # on the official slim base; a debootstrap-made base carries more of Debian


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=300)


def test_the_image_runs_as_a_non_root_user_and_needs_no_network(image: str) -> None:
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["sre-operator"]
    whoami = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", "import os; print(os.getuid())"
    )
    assert whoami.stdout.strip() == "10001", whoami.stderr


def test_validate_and_render_work_offline_in_the_image(image: str, tmp_path: Path) -> None:
    examples = ROOT / "references" / "examples"
    mount = ["--network", "none", "--read-only", "-v", f"{examples}:/plans:ro"]
    validated = docker("run", "--rm", *mount, image, "validate", "/plans/checkout.yaml")
    assert validated.returncode == 0, validated.stderr
    rendered = docker("run", "--rm", *mount, image, "render")
    assert rendered.returncode == 0, rendered.stderr
    assert "kind: PrometheusRule" in rendered.stdout
    plan = (examples / "checkout.yaml").read_text(encoding="utf-8").replace("objective: 99.9", "objective: 101", 1)
    (tmp_path / "broken.yaml").write_text(plan, encoding="utf-8")
    tmp_path.chmod(0o755)
    (tmp_path / "broken.yaml").chmod(0o644)
    broken = docker(
        "run", "--rm", "--network", "none", "-v", f"{tmp_path}:/plans:ro", image, "validate", "/plans/broken.yaml"
    )
    assert broken.returncode == 1 and "objective" in broken.stdout + broken.stderr
    assert "Traceback" not in broken.stdout + broken.stderr


def test_the_image_size_is_reported(image: str) -> None:
    size = int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout.strip())
    base = docker("image", "inspect", "-f", '{{ index .Config.Labels "dev.sre-operator.inputs" }}', image).stdout
    print(f"image {image}: {size / 1e6:.0f} MB (inputs {base.strip()})")
    assert size > 0
