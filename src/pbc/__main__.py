"""Allow `python -m pbc`."""

from pbc.cli import main

main()
