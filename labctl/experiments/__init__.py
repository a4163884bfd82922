"""``labctl experiment``: ephemeral experiment stacks, decided in plain Python, run by the Automation API."""
