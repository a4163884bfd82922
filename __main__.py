"""Pulumi entry point: load the stack's config and build its role (see components/stacks.py)."""

from components.stacks import main

main()
