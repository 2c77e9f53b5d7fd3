"""Allow `python -m fleetctl`."""

from fleetctl.cli.main import main

main()
