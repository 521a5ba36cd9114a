"""netlab: network-namespace lab for testing firewall roles with real packets.

Run ``python -m tools.netlab --help`` from the repository root; see tools/netlab/README.md.
"""
