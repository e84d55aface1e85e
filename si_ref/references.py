r"""Named reference objects: gamma schedules, interpolants and Gaussian cases with fixed parameters.

The names are stable: the command line (``si-ref check --case NAME``) and the
golden test vectors (:mod:`si_ref.golden`) use them, and the vector manifests
record each definition (``definition(name)``) so that an implementation in
another language can rebuild the same case.

Every parameter is a short decimal, so the definitions are exact in any language.
"""

from __future__ import annotations

import difflib

import numpy as np

from .diffusion.case import DiffusionCase
from .diffusion.paths import (
    CosinePath,
    DiffusionPath,
    EDMPath,
    RectifiedFlowPath,
    VEPath,
    VPLinearPath,
    ZeroTerminalSNRPath,
)
from .couplings import entropic_cross_cov, GaussianOTMap
from .distributions import Gaussian, GaussianMixture
from .gaussian import GaussianCase
from .guidance import GuidanceCase, LabelledGaussianMixture
from .interpolants import (
    EncoderDecoderInterpolant,
    Interpolant,
    LinearInterpolant,
    MirrorInterpolant,
    OneSidedLinearInterpolant,
    OneSidedTrigInterpolant,
    TrigInterpolant,
    VPTrigInterpolant,
)
from .schedules import (
    BrownianGamma,
    BSquaredGamma,
    GammaSchedule,
    ScaledBrownianGamma,
    SigmoidGamma,
    SineSquaredGamma,
    ZeroGamma,
)

__all__ = ["GAMMA_SCHEDULES", "INTERPOLANTS", "CASES", "DIFFUSION_CASES", "GUIDANCE_CASES", "COUPLINGS_OF_CASES",
           "gamma_schedule", "interpolant", "case", "diffusion_case", "guidance_case", "definition", "name_of",
           "unknown_name_error"]


def _schedules() -> dict:
    return {
        "zero": ZeroGamma(),
        "brownian": BrownianGamma(),
        "scaled-brownian-2": ScaledBrownianGamma(2.0),
        "bsquared": BSquaredGamma(),
        "sine-squared": SineSquaredGamma(),
        "sigmoid-10": SigmoidGamma(10.0),
    }


def _interpolants() -> dict:
    return {
        "linear-brownian": LinearInterpolant(BrownianGamma()),
        "linear-zero": LinearInterpolant(ZeroGamma()),
        "trig-bsquared": TrigInterpolant(BSquaredGamma()),
        "vp-trig-brownian": VPTrigInterpolant(BrownianGamma()),
        "encoder-decoder-sine-squared": EncoderDecoderInterpolant(SineSquaredGamma()),
        "one-sided-linear": OneSidedLinearInterpolant(),
        "one-sided-trig": OneSidedTrigInterpolant(),
        "mirror-brownian": MirrorInterpolant(BrownianGamma()),
    }


#: Gamma schedules by name.
GAMMA_SCHEDULES: dict = _schedules()
#: Interpolants by name.
INTERPOLANTS: dict = _interpolants()

_STANDARD_2D = Gaussian(np.zeros(2), np.eye(2))
_TARGET_2D = Gaussian(np.array([2.0, -1.0]), np.array([[1.0, 0.5], [0.5, 2.0]]))
_BASE_2D = Gaussian(np.array([-1.0, 0.5]), np.array([[0.5, -0.2], [-0.2, 1.5]]))
_MIXTURE_2D = GaussianMixture(
    np.array([0.25, 0.25, 0.25, 0.25]),
    np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]]),
    np.stack([np.diag([0.3, 0.1]), np.diag([0.1, 0.3]), np.diag([0.3, 0.1]), np.diag([0.1, 0.3])]),
)
_MIXTURE_BASE_2D = GaussianMixture(
    np.array([0.6, 0.4]),
    np.array([[-1.0, -1.0], [1.5, 0.5]]),
    np.stack([np.array([[0.8, 0.3], [0.3, 0.6]]), np.eye(2) * 0.4]),
)
_TARGET_3D = GaussianMixture(
    np.array([0.2, 0.5, 0.3]),
    np.array([[1.0, 0.0, -1.0], [-1.0, 2.0, 0.0], [0.0, -1.5, 1.0]]),
    np.stack([np.eye(3) * 0.5, np.diag([1.0, 0.2, 0.6]), np.array([[0.7, 0.2, 0.0], [0.2, 0.7, 0.2], [0.0, 0.2, 0.7]])]),
)


def _cases() -> dict:
    return {
        "gaussian-1d-linear-brownian": (INTERPOLANTS["linear-brownian"], Gaussian(np.array([0.0]), np.array([[1.0]])),
                                         Gaussian(np.array([3.0]), np.array([[0.25]])), None),
        "gaussian-2d-linear-brownian": (INTERPOLANTS["linear-brownian"], _BASE_2D, _TARGET_2D, None),
        "coupled-2d-trig-bsquared": (INTERPOLANTS["trig-bsquared"], _BASE_2D, _TARGET_2D,
                                     np.array([[0.3, 0.1], [-0.2, 0.4]])),
        "mixture-2d-linear-brownian": (INTERPOLANTS["linear-brownian"], _MIXTURE_BASE_2D, _MIXTURE_2D, None),
        "mixture-2d-vp-trig-brownian": (INTERPOLANTS["vp-trig-brownian"], _STANDARD_2D, _MIXTURE_2D, None),
        "mixture-2d-encoder-decoder": (INTERPOLANTS["encoder-decoder-sine-squared"], _STANDARD_2D, _MIXTURE_2D, None),
        "mixture-3d-linear-sigmoid": (LinearInterpolant(SigmoidGamma(10.0)), Gaussian(np.zeros(3), np.eye(3)),
                                      _TARGET_3D, None),
        "one-sided-2d-linear": (INTERPOLANTS["one-sided-linear"], None, _MIXTURE_2D, None),
        "one-sided-2d-trig": (INTERPOLANTS["one-sided-trig"], None, _TARGET_2D, None),
        "mirror-2d-brownian": (INTERPOLANTS["mirror-brownian"], None, _MIXTURE_2D, None),
        # couplings computed from the endpoints (the definition records the cross-covariance and its name)
        "ot-2d-linear-zero": (INTERPOLANTS["linear-zero"], _BASE_2D, _TARGET_2D,
                              GaussianOTMap(_BASE_2D, _TARGET_2D).cross_cov),
        "schrodinger-bridge-2d-linear": (LinearInterpolant(ScaledBrownianGamma(1.0)), _BASE_2D, _TARGET_2D,
                                         entropic_cross_cov(_BASE_2D, _TARGET_2D, 2.0)),
    }


#: How the cross-covariance of the named cases that have one was chosen.
COUPLINGS_OF_CASES: dict = {
    "coupled-2d-trig-bsquared": "jointly Gaussian with Cov(x0, x1) = cross_cov",
    "ot-2d-linear-zero": "the W2-optimal transport coupling x1 = m1 + A (x0 - m0) (Bures map); cross_cov = S0 A",
    "schrodinger-bridge-2d-linear": "the entropic OT coupling with epsilon = 2 (minimising E|x0 - x1|^2 + epsilon KL(pi "
                                    "|| base x target)): the static Schrodinger bridge of sigma W with sigma = 1",
}


_CASE_PARTS: dict = _cases()
#: Gaussian cases by name (built once; GaussianCase objects are immutable in use).
CASES: dict = {name: GaussianCase(i, base, target, cross_cov=c) for name, (i, base, target, c) in _CASE_PARTS.items()}


def _diffusion_cases() -> dict:
    """One 2-d, 2-component mixture (``_MIXTURE_BASE_2D``) on each diffusion path family."""
    paths = {
        "vp-linear": VPLinearPath(0.1, 20.0),
        "cosine": CosinePath(0.008),
        "ve": VEPath(0.01, 50.0),
        "edm": EDMPath(80.0),
        "rectified-flow": RectifiedFlowPath(1.0),
        "rectified-flow-shift-3": RectifiedFlowPath(3.0),
        "zero-terminal-snr": ZeroTerminalSNRPath(VPLinearPath(0.1, 20.0)),
    }
    return {f"diffusion-2d-{name}": DiffusionCase(_MIXTURE_BASE_2D, path) for name, path in paths.items()}


#: Diffusion cases by name: ``DiffusionCase(data, path)`` with the same 2-d, 2-component mixture data on each
#: path family (VP linear β, cosine, VE, EDM, rectified flow with shift 1 and 3, zero terminal SNR).
DIFFUSION_CASES: dict = _diffusion_cases()

_LABELLED_2D = LabelledGaussianMixture(
    np.array([0.3, 0.3, 0.4]),
    np.array([[2.0, 0.0], [0.0, 2.0], [-1.5, -1.0]]),
    np.stack([np.diag([0.3, 0.1]), np.diag([0.1, 0.3]), np.array([[0.4, 0.1], [0.1, 0.3]])]),
    (0, 0, 1),
)
_LABELLED_1D = LabelledGaussianMixture(
    np.array([0.5, 0.5]), np.array([[-1.0], [2.0]]), np.array([[[0.25]], [[0.5]]]), ("cat", "dog"),
)


def _guidance_cases() -> dict:
    return {
        "guidance-1d-vp-trig-brownian": GuidanceCase(INTERPOLANTS["vp-trig-brownian"],
                                                     Gaussian(np.zeros(1), np.eye(1)), _LABELLED_1D),
        "guidance-2d-linear-brownian": GuidanceCase(INTERPOLANTS["linear-brownian"], _STANDARD_2D, _LABELLED_2D),
        "guidance-2d-one-sided-trig": GuidanceCase(INTERPOLANTS["one-sided-trig"], None, _LABELLED_2D),
    }


#: Labelled cases for classifier-free guidance by name (:class:`si_ref.GuidanceCase`).
GUIDANCE_CASES: dict = _guidance_cases()


def _normalised(name: str) -> str:
    """Case, '-' and '_' ignored when looking for close names ('Drift' and 'gaussian_2d...' are near misses)."""
    return name.lower().replace("-", "_")


def close_names(name: str, valid, n: int = 3) -> list:
    """Up to ``n`` names of ``valid`` closest to ``name``, best first: the names containing it
    ('mirror' → 'mirror-brownian'), then difflib's close matches (spelling mistakes)."""
    by_key = {}
    for candidate in valid:
        by_key.setdefault(_normalised(candidate), candidate)
    key = _normalised(name)
    containing = sorted((k for k in by_key if key and key in k), key=len)
    similar = difflib.get_close_matches(key, list(by_key), n=n, cutoff=0.6)
    found = list(dict.fromkeys(containing[:n] + similar))[:n]
    return [by_key[k] for k in found]


def unknown_name_error(what: str, name: str, valid) -> ValueError:
    """A ValueError for an unknown ``what`` (e.g. "quantity") naming the closest valid names and all of them."""
    valid = list(valid)
    suggestions = close_names(name, valid)
    hint = f"did you mean {' or '.join(repr(s) for s in suggestions)}? " if suggestions else ""
    return ValueError(f"unknown {what} {name!r}; {hint}valid names: {', '.join(sorted(valid))}.")


def _lookup(table: dict, name, what: str):
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a name (str) such as {next(iter(table))!r}; received {name!r} of type "
                        f"{type(name).__name__}.")
    if name not in table:
        raise unknown_name_error(what, name, table)
    return table[name]


def gamma_schedule(name: str) -> GammaSchedule:
    """The named gamma schedule (see ``GAMMA_SCHEDULES``)."""
    return _lookup(GAMMA_SCHEDULES, name, "gamma schedule")


def interpolant(name: str) -> Interpolant:
    """The named interpolant (see ``INTERPOLANTS``)."""
    return _lookup(INTERPOLANTS, name, "interpolant")


def case(name: str) -> GaussianCase:
    """The named Gaussian case (see ``CASES``)."""
    return _lookup(CASES, name, "case")


def guidance_case(name: str) -> GuidanceCase:
    """The labelled case called ``name`` (a key of :data:`GUIDANCE_CASES`)."""
    return _lookup(GUIDANCE_CASES, name, "guidance case")


def diffusion_case(name: str) -> DiffusionCase:
    """The named diffusion case (see ``DIFFUSION_CASES``)."""
    return _lookup(DIFFUSION_CASES, name, "diffusion case")


def _schedule_definition(schedule: GammaSchedule) -> dict:
    out = {"family": type(schedule).__name__}
    for parameter in ("scale", "sharpness"):
        if hasattr(schedule, parameter):
            out[parameter] = float(getattr(schedule, parameter))
    return out


def _interpolant_definition(i: Interpolant) -> dict:
    return {"family": type(i).__name__, "kind": i.kind, "gamma": _schedule_definition(i.gamma_schedule)}


def _distribution_definition(dist) -> dict:
    if isinstance(dist, Gaussian):
        return {"type": "Gaussian", "mean": dist.mean.tolist(), "cov": dist.cov.tolist()}
    return {"type": "GaussianMixture", "weights": dist.weights.tolist(), "means": dist.means.tolist(),
            "covs": dist.covs.tolist()}


#: The parameters of each diffusion path family, in the order of its constructor.
_PATH_PARAMETERS = {"VPLinearPath": ("beta_min", "beta_max"), "CosinePath": ("s",),
                    "VEPath": ("sigma_min", "sigma_max"), "EDMPath": ("sigma_max",), "RectifiedFlowPath": ("shift",)}


def _path_definition(path: DiffusionPath) -> dict:
    family = type(path).__name__
    if isinstance(path, ZeroTerminalSNRPath):
        return {"family": family, "path": _path_definition(path.path)}
    return {"family": family, **{p: float(getattr(path, p)) for p in _PATH_PARAMETERS.get(family, ())}}


def _diffusion_case_definition(c: DiffusionCase) -> dict:
    return {"kind": "diffusion_case", "path": None if c.path is None else _path_definition(c.path),
            "data": _distribution_definition(c.data),
            "convention": "x = a(tau) x_data + sigma(tau) eps, eps ~ N(0, I) independent of x_data; tau = 0 the data"}


def _guidance_case_definition(c: GuidanceCase) -> dict:
    target = c.target
    return {"kind": "guidance_case", "interpolant": _interpolant_definition(c.interpolant),
            "base": _distribution_definition(c.base),
            "target": {"type": "LabelledGaussianMixture", "weights": target.weights.tolist(),
                       "means": target.means.tolist(), "covs": target.covs.tolist(), "labels": list(target.labels)},
            "coupling": "independent; the conditional target given c is the components of label c, weights "
                        "renormalised"}


def definition(name: str) -> dict:
    """A JSON-ready definition of the named schedule, interpolant, case or diffusion case (parameters as numbers)."""
    if name in GAMMA_SCHEDULES:
        return {"kind": "gamma_schedule", **_schedule_definition(GAMMA_SCHEDULES[name])}
    if name in INTERPOLANTS:
        return {"kind": "interpolant", **_interpolant_definition(INTERPOLANTS[name])}
    if name in CASES:
        c = CASES[name]
        return {"kind": "case", "interpolant": _interpolant_definition(c.interpolant),
                "base": _distribution_definition(c.base), "target": _distribution_definition(c.target),
                "cross_cov": None if c.cross_cov is None else c.cross_cov.tolist(),
                "coupling": COUPLINGS_OF_CASES.get(name, "independent" if c.cross_cov is None
                                                   else "jointly Gaussian with Cov(x0, x1) = cross_cov")}
    if name in DIFFUSION_CASES:
        return _diffusion_case_definition(DIFFUSION_CASES[name])
    if name in GUIDANCE_CASES:
        return _guidance_case_definition(GUIDANCE_CASES[name])
    if not isinstance(name, str):
        raise TypeError(f"name must be the name (str) of a schedule, interpolant or case; received {name!r} of type "
                        f"{type(name).__name__}.")
    raise unknown_name_error("reference", name, {**GAMMA_SCHEDULES, **INTERPOLANTS, **CASES, **DIFFUSION_CASES,
                                                 **GUIDANCE_CASES})


def name_of(reference):
    """The name of a schedule, interpolant, case, diffusion case or labelled case of this module, or None.

    ``reference`` may be one of the objects of ``GAMMA_SCHEDULES``, ``INTERPOLANTS``,
    ``CASES``, ``DIFFUSION_CASES`` or ``GUIDANCE_CASES`` itself, or an equal rebuild of one (the same family and parameters,
    compared through :func:`definition`).
    """
    if isinstance(reference, DiffusionCase):
        table = DIFFUSION_CASES
    elif isinstance(reference, GuidanceCase):
        table = GUIDANCE_CASES
    elif isinstance(reference, GaussianCase):
        table = CASES
    elif isinstance(reference, Interpolant):
        table = INTERPOLANTS
    elif isinstance(reference, GammaSchedule):
        table = GAMMA_SCHEDULES
    else:
        return None
    for name, value in table.items():
        if value is reference:
            return name
    wanted = _definition_of(reference)
    for name, value in table.items():
        if wanted is not None and _definition_of(value) == wanted:
            return name
    return None


def _definition_of(reference):
    """:func:`definition`'s dict for an object (None for a custom interpolant, which has no parameters to compare)."""
    if isinstance(reference, DiffusionCase):
        return _diffusion_case_definition(reference)
    if isinstance(reference, GuidanceCase):
        return None if type(reference.interpolant).__name__ == "CustomInterpolant" \
            else _guidance_case_definition(reference)
    if isinstance(reference, GaussianCase):
        if type(reference.interpolant).__name__ == "CustomInterpolant":
            return None
        return {"interpolant": _interpolant_definition(reference.interpolant),
                "base": _distribution_definition(reference.base), "target": _distribution_definition(reference.target),
                "cross_cov": None if reference.cross_cov is None else reference.cross_cov.tolist()}
    if isinstance(reference, Interpolant):
        return None if type(reference).__name__ == "CustomInterpolant" else _interpolant_definition(reference)
    return _schedule_definition(reference)
