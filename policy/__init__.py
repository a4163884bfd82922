"""The homelab's rules, written once: used by the CrossGuard pack (policy/__main__.py) and by pytest."""
