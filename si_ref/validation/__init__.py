"""Runnable validation studies of si_ref: each writes figures and returns its measured numbers."""
