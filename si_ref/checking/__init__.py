"""Checking other implementations against si_ref's exact values (work in progress: see si_ref.conformance)."""
