"""`python -m fustgo.cli`: the same as the `fustgo` command."""

from fustgo.cli.main import main

main()
