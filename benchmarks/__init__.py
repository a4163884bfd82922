"""`make bench`: how fast the program turns config into a homelab, against the Pulumi SDK floor."""
