"""Benchmarks: si_ref against what users would run instead, measured side by side (not tests).

``python -m si_ref.validation.benchmarks [--out DIR] [--quick]`` runs every benchmark module of this
package (each defines ``NAME``, ``TITLE`` and ``run(out_dir, *, quick=False) -> str``) and writes
one JSON and one Markdown table per benchmark into DIR (default ``./si_ref_benchmarks``).
"""
