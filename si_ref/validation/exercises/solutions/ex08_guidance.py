"""Solution of exercise 8: classifier-free guidance (1 + w) f_c − w f_u, and g = 1 + w."""

from __future__ import annotations

import sys

import numpy as np

from si_ref.validation.exercises import ex08_guidance as exercise

__all__ = ["GuidedField", "scale_from_weight"]


class GuidedField:
    """f_w(x, t, c) = (1 + w) f(x, t, c) − w f(x, t) (Ho & Salimans 2022, eq. (6))."""

    def __init__(self, field, w):
        self.field = field
        self.w = float(w)

    def __call__(self, x, t, c):
        conditional = np.asarray(self.field(x, t, c), dtype=np.float64)
        unconditional = np.asarray(self.field(x, t), dtype=np.float64)
        return (1.0 + self.w) * conditional - self.w * unconditional


def scale_from_weight(w):
    """g = 1 + w: f_u + g (f_c − f_u) = g f_c + (1 − g) f_u matches (1 + w) f_c − w f_u coefficient by coefficient."""
    return 1.0 + float(w)


if __name__ == "__main__":
    raise SystemExit(exercise.main(sys.modules[__name__]))
