"""`pulumi preview --policy-pack policy`: the homelab's rules, enforced on every preview."""

from pulumi_policy import PolicyPack

from policy.crossguard import policies

PolicyPack(name="homelab", policies=policies())
