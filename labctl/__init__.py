"""labctl: the homelab's own command line — offline synth, and (with the Pulumi CLI) experiments."""
