"""labctl's commands, one module each; ``labctl/__main__.py`` puts them on one command line."""
