"""The Alertmanager configuration for each kind of contact point, judged by the parser Mimir's Alertmanager uses.

`amtool check-config` here is built from Grafana's fork of the Alertmanager at the very version Mimir 2.17.2
replaces it with (``make tools``), so what it accepts is what Mimir loads from the tenant's file.
"""

import subprocess
from pathlib import Path

import pytest
import yaml

from components.config import ContactPoint
from components.platform import notifications

CONTACTS = {
    "none": (None, None),
    "ntfy, public topic": (ContactPoint(kind="ntfy", url="https://ntfy.sh/my-homelab"), None),
    "ntfy, protected topic": (ContactPoint(kind="ntfy", url="https://ntfy.example.com/lab"), "tk_example"),
    "email through a relay": (ContactPoint(kind="email", to="me@example.com", sender="lab@example.com",
                                           smarthost="smtp.example.com:587", username="lab"), "smtp-password"),
    "webhook with a token": (ContactPoint(kind="webhook", url="https://hooks.example.com/alerts"), "bearer"),
}


def _check(amtool: Path, text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{notifications.TENANT}.yaml"
    path.write_text(text)
    return subprocess.run([str(amtool), "check-config", str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", CONTACTS)
def test_each_contact_points_configuration_loads(case: str, amtool: Path, tmp_path: Path):
    contact, credential = CONTACTS[case]
    checked = _check(amtool, notifications.config_text(contact, credential), tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_route_to_a_receiver_that_does_not_exist_is_refused(amtool: Path, tmp_path: Path):
    config = notifications.alertmanager_config(None, None)
    config["route"]["receiver"] = "nobody"
    checked = _check(amtool, yaml.safe_dump(config), tmp_path)
    assert checked.returncode != 0 and "nobody" in checked.stdout + checked.stderr
