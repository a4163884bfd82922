"""`pulumi preview --policy-pack policy`: the homelab's rules, on every resource before its step.

The CLI's Python analyzer runs this file with ``python -m pulumi.policy ENGINE .`` from inside this
directory (``runpy.run_path``, pulumi/policy/__main__.py in the SDK), so only this directory is on the
path; the repository root is added for the ``policy`` package, and no PYTHONPATH is needed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policy.crossguard import policies

PolicyPack(name="homelab", policies=policies())
