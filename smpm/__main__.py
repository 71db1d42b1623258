"""`python -m smpm` is the `smpm` command."""

from smpm.cli import main

main()
