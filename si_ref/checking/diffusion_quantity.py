r"""Checkable quantities of the diffusion conventions: how they are called and where their inputs come from.

The reference of every diffusion quantity is a :class:`si_ref.diffusion.DiffusionCase`
(Gaussian or Gaussian-mixture data on a path :math:`x_\tau = a(\tau) x_{\mathrm{data}} + \sigma(\tau)\varepsilon`,
τ = 0 the data); its exact fields at a noise level (a, σ) are the model outputs handed to
conversions and sampler steps.

=============================  ===============================================  ====================
class                          the implementation                               level
=============================  ===============================================  ====================
DiffusionFieldQuantity         ``f(x, tau) -> (n, d)``                          diffusion
LevelQuantity                  ``convert(prediction, x, a, sigma) -> (n, d)``   diffusion conversion
                               or ``add_noise(x_data, noise, a, sigma)``        diffusion target
DiffusionStepQuantity          one sampler step (its own signature, e.g.        diffusion step
                               ``ddim_step(eps, x, alpha_bar, alpha_bar_prev)``)
ShiftQuantity                  ``shift_sigma(sigma, shift) -> (n,)``            diffusion step
=============================  ===============================================  ====================

An input is a :class:`DiffusionExample`: an :class:`~si_ref.checking.example.Example` whose
``t`` is τ (fields) or σ (the shift), with the named inputs of the call in ``values``
(noise levels, ᾱ, σ_next, the noise draw ...). Arrays of shape (n, ...) in ``values`` are
per-row inputs (cut with the rows); everything else is one number or a level (a, σ) for the
whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, ClassVar

import numpy as np
from hypothesis import strategies as st

from .. import references as named
from .. import strategies as sis
from ..diffusion.case import DiffusionCase
from .draw import FAR, TimeRange, draw_bulk, draw_n, draw_times, far_points, fixed_times, unit_points
from .example import Example
from .quantity import Quantity

__all__ = ["DiffusionExample", "DiffusionFieldQuantity", "LevelQuantity", "DiffusionStepQuantity", "ShiftQuantity",
           "points_at_levels", "level_points", "fixed_level_points", "LEVEL_MARGIN", "FIXED_LEVELS", "column_of"]

#: A conversion that divides by a (or σ) is checked where a/(a + σ) (or σ/(a + σ)) is at least this: closer
#: to the end the division amplifies the rounding of its input by (a + σ)/a in any implementation.
LEVEL_MARGIN = 1e-2

#: Noise levels (a, σ) of the fixed inputs of conversions and targets: the data end (σ = 0 and 1e-12), VP
#: levels, a VE/EDM level, a rectified-flow level and the noise end (a = 1e-12 and 0).
FIXED_LEVELS = ((1.0, 0.0), (1.0, 1e-12), (0.8, 0.6), (0.5, 0.5), (1.0, 80.0), (0.25, 0.75), (1e-12, 1.0),
                (0.0, 1.0))


def column_of(value):
    """A number or a (n,) array as something that broadcasts against (n, d) rows."""
    v = np.asarray(value, dtype=np.float64)
    return v if v.ndim == 0 else v[:, None]


@dataclass(frozen=True)
class DiffusionExample(Example):
    """An input of a diffusion quantity (see the module docstring).

    Attributes
    ----------
    values : dict
        The named inputs of the call besides ``x`` and τ: ``a``, ``sigma`` (levels),
        ``alpha_bar``, ``alpha_bar_prev``, ``sigma_next``, ``eta``, ``gamma``, ``s_noise``,
        ``level_prev``, ``level``, ``level_next`` (pairs (a, σ)), ``noise`` (n, d),
        ``x_prev`` (n, d), and stored model outputs (golden vectors).
    """

    values: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.values[name]

    def get(self, name, default=None):
        return self.values.get(name, default)

    def with_values(self, **changes) -> "DiffusionExample":
        """The same example with some named inputs replaced."""
        return replace(self, values={**self.values, **changes})

    @property
    def points(self):
        for name in ("x", "x0", "x1"):
            value = getattr(self, name)
            if value is not None:
                return value
        return None

    def rows(self, selection) -> "DiffusionExample":
        cut = super().rows(selection)
        n = self.n
        values = {k: (v[selection] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n else v)
                  for k, v in self.values.items()}
        return replace(cut, values=values)


# --- points at a noise level ----------------------------------------------------------------------

def fixed_level_points(case: DiffusionCase, a: float, sigma: float) -> np.ndarray:
    """Each component mean a m_k of the law of x = a x_data + σ ε, then the far points of
    :func:`~si_ref.checking.draw.far_points`. Shape (P + 4, d)."""
    means = case.components_at(float(a), float(sigma)).means
    return np.concatenate([means, far_points(case.dim)])


def points_at_levels(case: DiffusionCase, a, sigma, pick, u) -> np.ndarray:
    """Row i at a_i m_p + L u_i, L Lᵀ = a_i² S_p + σ_i² I, for component p = ``pick[i]`` at row i's level.

    a, σ and ``pick`` have shape (n,), ``u`` shape (n, d). One row at a time with ``@`` (BLAS), where
    :func:`~si_ref.checking.draw.points_in_components` sums with ``einsum``: the two differ in the last
    bit, and each fixes the stored golden vectors and the drawn inputs of its checks.
    """
    out = np.empty(u.shape)
    for i in range(u.shape[0]):
        comps = case.components_at(float(a[i]), float(sigma[i]))
        out[i] = comps.means[pick[i]] + np.linalg.cholesky(comps.covs[pick[i]]) @ u[i]
    return out


def level_points(data, case: DiffusionCase, a, sigma, n: int) -> np.ndarray:
    """Row i at a m_p + L_p u_i with |u| <= 3, L_p L_pᵀ = a² S_p + σ² I, at row i's level: in the bulk."""
    pick, u = draw_bulk(data, n, case.dim, case.components_at(1.0, 0.0).weights.size)
    # placed at the level scaled to a + σ = 1, then scaled back: the covariance is SPD whatever the size of a and σ
    a_rows = np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))
    s_rows = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))
    r = a_rows + s_rows
    return r[:, None] * points_at_levels(case, a_rows / r, s_rows / r, pick, u)


def _short(value) -> str:
    """A number, a pair or the first few distinct values of an array, for one line of a report."""
    if isinstance(value, tuple):
        return "(" + ", ".join(repr(float(v)) for v in value) + ")"
    values = np.unique(np.atleast_1d(np.asarray(value, dtype=np.float64)))
    return repr(float(values[0])) if values.size == 1 else f"{values.tolist()[:4]}"


def _case_strategy(accepts, families=None):
    return sis.diffusion_cases(st.integers(1, 3), families=families, max_components=3).filter(accepts)


def _named(accepts, limit=None) -> list:
    found = [named.DIFFUSION_CASES[k] for k in named.DIFFUSION_CASES if accepts(named.DIFFUSION_CASES[k])]
    return found if limit is None else found[:limit]


def _always(reference):
    return True


# --- fields in τ ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffusionFieldQuantity(Quantity):
    """A field of a :class:`DiffusionCase` in the diffusion time τ, called ``f(x, tau)``; values (n, d).

    τ ∈ [0, 1] with τ = 0 the data; τ is a float or an array of shape (n,) (row i at τ[i]).
    Fixed inputs: the times of every check on every named diffusion case (each path family),
    at the modes of ρ_τ and far points; drawn: cases, times and points in the bulk of ρ_τ.
    """

    method: str = ""

    level: ClassVar[str] = "diffusion"
    reference_type: ClassVar[type] = DiffusionCase
    arguments: ClassVar[tuple] = ("x", "t")

    def shown_inputs(self, ex):
        return {"tau": ex.t, "x": ex.x}

    def where(self, ex) -> str:
        return f"tau = {_short(ex.t)}"

    def own_implementation(self, eps=None):
        return lambda reference: getattr(reference, self.method)

    def reference_strategy(self):
        return _case_strategy(self.accepts, self.families)

    def fixed_references(self) -> list:
        return _named(self.accepts)

    def fixed_description(self, span: TimeRange) -> str:
        times = ", ".join(repr(t) for t in fixed_times(span))
        return (f"tau in {{{times}}} (where defined); at each, every mode of rho_tau and points far from them "
                f"(|x| up to {FAR:g})")

    def draw(self, data, reference, eps, span):
        n = draw_n(data, reference.dim)
        tau = draw_times(data, span.within(self.domain(reference), self.name), n)
        path = reference.path
        a, sigma = path.a(tau), path.sigma(tau)
        return DiffusionExample(reference, tau, x=level_points(data, reference, a, sigma, n))

    def fixed_examples(self, reference, eps, span):
        path = reference.path
        return [DiffusionExample(reference, tau, x=fixed_level_points(reference, path.a(tau), path.sigma(tau)))
                for tau in fixed_times(span.within(self.domain(reference), self.name))]

    def stored_example(self, reference, args: dict, eps=None) -> DiffusionExample:
        """The example of stored golden inputs (``tau`` and ``x`` of the rows)."""
        return DiffusionExample(reference, args["tau"], x=args["x"])


# --- functions of a noise level: conversions and training targets ---------------------------------------

def _levels(data, n):
    """A level (a, σ) for the whole batch, or one per row (arrays of shape (n,))."""
    if data.draw(st.booleans(), label="one level"):
        a, sigma = data.draw(sis.noise_levels(), label="level")
        return a, sigma
    pairs = data.draw(st.lists(sis.noise_levels(), min_size=n, max_size=n), label="levels")
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


@dataclass(frozen=True)
class LevelQuantity(Quantity):
    """A function of a noise level (a, σ): a conversion between prediction types, called
    ``convert(prediction, x, a, sigma)``, or a training target, called ``f(x_data, noise, a, sigma)``.

    a and σ are floats or arrays of shape (n,) (row i at level (a[i], σ[i])). A conversion's
    ``prediction`` is the case's exact field of type ``source`` at (x, a, σ); a target's
    ``x_data`` and ``noise`` are points with entries in [−3, 3] (fixed: 0, 1 and ±1e3).
    ``defined(a, sigma)`` says where si_ref checks the quantity (a conversion that divides by a
    or σ needs it to be at least ``LEVEL_MARGIN`` (a + σ)).
    """

    source: str = ""
    target: str = ""
    own: Callable | None = field(default=None, compare=False)
    usable: Callable = field(default=lambda a, sigma: True, compare=False)
    inputs_of: Callable | None = field(default=None, compare=False)

    level: ClassVar[str] = "diffusion conversion"
    reference_type: ClassVar[type] = DiffusionCase
    takes_factory: ClassVar[bool] = False

    @property
    def is_target(self) -> bool:
        return not self.source

    def argument_names(self, ex):
        return ("x_data", "noise", "a", "sigma") if self.is_target else ("prediction", "x", "a", "sigma")

    def call_inputs(self, ex) -> dict:
        """The arguments of the call by name (the prediction: stored, or the case's exact field)."""
        if self.is_target:
            return {"x_data": ex.x0, "noise": ex.z, "a": ex["a"], "sigma": ex["sigma"]}
        prediction = ex.get("prediction")
        if prediction is None:
            prediction = self.inputs_of(ex)
        return {"prediction": prediction, "x": ex.x, "a": ex["a"], "sigma": ex["sigma"]}

    def bind(self, implementation, ex):
        inputs = self.call_inputs(ex)
        return implementation, tuple(inputs[name] for name in self.argument_names(ex))

    def shown_inputs(self, ex):
        return self.call_inputs(ex)

    def where(self, ex) -> str:
        return f"a = {_short(ex['a'])}, sigma = {_short(ex['sigma'])}"

    def defined(self, ex) -> bool:
        a = np.asarray(ex["a"], dtype=np.float64)
        sigma = np.asarray(ex["sigma"], dtype=np.float64)
        return bool(np.all(self.usable(a, sigma)))

    def own_implementation(self, eps=None):
        return self.own

    def reference_strategy(self):
        return _case_strategy(self.accepts, self.families)

    def fixed_references(self) -> list:
        return _named(self.accepts, limit=1)   # the named cases share their data: one is enough

    def fixed_description(self, span) -> str:
        levels = ", ".join(f"({a:g}, {s:g})" for a, s in FIXED_LEVELS)
        where = ("x_data and noise rows 0, 1 and ±1e3" if self.is_target
                 else f"every mode of the law of x and points far from them (|x| up to {FAR:g})")
        return f"(a, sigma) in {{{levels}}} (where defined); at each, {where}"

    def draw(self, data, reference, eps, span):
        n = draw_n(data, reference.dim)
        a, sigma = _levels(data, n)
        if self.is_target:
            d = reference.dim
            return DiffusionExample(reference, None, x0=unit_points(data, n, d), z=unit_points(data, n, d),
                                    values={"a": a, "sigma": sigma})
        return DiffusionExample(reference, None, x=level_points(data, reference, a, sigma, n),
                                values={"a": a, "sigma": sigma})

    def fixed_examples(self, reference, eps, span):
        out = []
        for a, sigma in FIXED_LEVELS:
            if self.is_target:
                rows = np.stack([np.zeros(reference.dim), np.ones(reference.dim), np.full(reference.dim, 1e3),
                                 1e3 * (-1.0) ** np.arange(reference.dim)])
                i, j = (g.ravel() for g in np.meshgrid(np.arange(4), np.arange(4), indexing="ij"))
                out.append(DiffusionExample(reference, None, x0=rows[i], z=rows[j], values={"a": a, "sigma": sigma}))
            else:
                out.append(DiffusionExample(reference, None, x=fixed_level_points(reference, a, sigma),
                                            values={"a": a, "sigma": sigma}))
        return out

    def stored_example(self, reference, args: dict, eps=None) -> DiffusionExample:
        """The example of stored golden inputs (``args``: name -> array of the rows)."""
        values = {"a": args["a"], "sigma": args["sigma"]}
        if self.is_target:
            return DiffusionExample(reference, None, x0=args["x_data"], z=args["noise"], values=values)
        return DiffusionExample(reference, None, x=args["x"], values={**values, "prediction": args["prediction"]})


# --- sampler steps -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffusionStepQuantity(Quantity):
    """One step of a diffusion sampler from x, called with its own arguments (``arguments``).

    The model outputs among them (ε̂, D, the flow velocity; ``model_outputs``) are the case's
    exact fields at the current level, evaluated at x (and at ``x_prev`` for a multistep
    method); a ``denoiser`` argument is the exact D(x, σ) as a callable. Levels, ᾱ and the noise
    draw are one per batch (a step of diffusers' schedulers takes one timestep), the noise of
    shape (n, d). ``draw_values(data, case)`` and ``fixed_values(case)`` give the named inputs;
    the points x are in the bulk of the current level (fixed: its modes and far points).
    """

    arguments_: tuple = ()
    model_outputs: Callable | None = field(default=None, compare=False)
    draw_values: Callable | None = field(default=None, compare=False)
    fixed_values: Callable | None = field(default=None, compare=False)
    current_level: Callable | None = field(default=None, compare=False)
    own: Callable | None = field(default=None, compare=False)
    fixed_text: str = ""
    references: int | None = 1

    level: ClassVar[str] = "diffusion step"
    reference_type: ClassVar[type] = DiffusionCase
    takes_factory: ClassVar[bool] = False

    def argument_names(self, ex):
        return self.arguments_

    def call_inputs(self, ex) -> dict:
        outputs = {k: ex.values[k] for k in self.arguments_ if k in ex.values}
        missing = [k for k in self.arguments_ if k not in outputs and k != "x"]
        if missing:
            outputs.update(self.model_outputs(ex))
        outputs["x"] = ex.x
        return outputs

    def bind(self, implementation, ex):
        inputs = self.call_inputs(ex)
        return implementation, tuple(inputs[name] for name in self.arguments_)

    def shown_inputs(self, ex):
        inputs = self.call_inputs(ex)
        shown = {name: inputs[name] for name in self.arguments_}
        if "x_prev" in ex.values:
            shown["x_prev (where denoised_prev was evaluated)"] = ex["x_prev"]
        return shown

    def where(self, ex) -> str:
        return ", ".join(f"{name} = {_short(value)}" for name, value in ex.values.items()
                         if isinstance(value, (tuple, float, int)))

    def own_implementation(self, eps=None):
        return self.own

    def reference_strategy(self):
        return _case_strategy(self.accepts, self.families)

    def fixed_references(self) -> list:
        return _named(self.accepts, limit=self.references)

    def fixed_description(self, span) -> str:
        return f"{self.fixed_text}; x at every mode of the current level and far points (|x| up to {FAR:g})"

    def _points_example(self, reference, values, x):
        return DiffusionExample(reference, None, x=x, values=values)

    def draw(self, data, reference, eps, span):
        values = self.draw_values(data, reference)
        n = draw_n(data, reference.dim)
        a, sigma = self.current_level(values)
        x = level_points(data, reference, a, sigma, n)
        if "level_prev" in values:           # the previous point of a multistep method, at the previous level
            a_prev, sigma_prev = values["level_prev"]
            values = {**values, "x_prev": level_points(data, reference, a_prev, sigma_prev, n)}
        if "noise" in self.arguments_:
            values = {**values, "noise": unit_points(data, n, reference.dim)}
        return DiffusionExample(reference, None, x=x, values=values)

    def fixed_examples(self, reference, eps, span):
        out = []
        for values in self.fixed_values(reference):
            a, sigma = self.current_level(values)
            x = fixed_level_points(reference, a, sigma)
            if "level_prev" in values:
                a_prev, sigma_prev = values["level_prev"]
                prev = fixed_level_points(reference, a_prev, sigma_prev)
                values = {**values, "x_prev": prev[::-1].copy()}
            if "noise" in self.arguments_:
                values = {**values, "noise": np.ones_like(x)}
            out.append(DiffusionExample(reference, None, x=x, values=values))
        return out

    def stored_example(self, reference, args: dict, eps=None) -> DiffusionExample:
        """The example of stored golden inputs: arrays per row; the batch's numbers are stored once per row."""
        values = {}
        for name, stored in args.items():
            if name in ("x",):
                continue
            if name in ("level_prev", "level", "level_next"):
                values[name] = (float(stored[0, 0]), float(stored[0, 1]))
            elif stored.ndim == 1:
                values[name] = float(stored[0])
            else:
                values[name] = stored
        return DiffusionExample(reference, None, x=args["x"], values=values)


@dataclass(frozen=True)
class ShiftQuantity(Quantity):
    """The timestep shift σ' = s σ / (1 + (s − 1) σ), called ``shift_sigma(sigma, shift)``: sigma (n,) in [0, 1]
    (passed as the check's times), the shift s of the case's :class:`~si_ref.diffusion.RectifiedFlowPath`."""

    own: Callable | None = field(default=None, compare=False)

    level: ClassVar[str] = "diffusion step"
    reference_type: ClassVar[type] = DiffusionCase
    takes_factory: ClassVar[bool] = False

    def argument_names(self, ex):
        return ("sigma", "shift")

    def bind(self, implementation, ex):
        return implementation, (ex.t, float(ex.reference.path.shift))

    def shown_inputs(self, ex):
        return {"sigma": ex.t, "shift": float(ex.reference.path.shift)}

    def where(self, ex) -> str:
        return f"sigma = {_short(ex.t)}"

    def own_implementation(self, eps=None):
        return self.own

    def reference_strategy(self):
        return _case_strategy(self.accepts, ("rectified-flow",))

    def fixed_references(self) -> list:
        return _named(self.accepts)

    def fixed_description(self, span) -> str:
        return "sigma in {" + ", ".join(repr(t) for t in fixed_times(span)) + "} (one array, then each alone)"

    def draw(self, data, reference, eps, span):
        n = data.draw(st.integers(1, 4), label="n")
        t = draw_times(data, span.within(self.domain(reference), self.name), n)
        return DiffusionExample(reference, np.atleast_1d(np.asarray(t, dtype=np.float64)))

    def fixed_examples(self, reference, eps, span):
        times = fixed_times(span.within(self.domain(reference), self.name))
        return [DiffusionExample(reference, np.array(times))] + [DiffusionExample(reference, np.array([t]))
                                                                  for t in times]

    def stored_example(self, reference, args: dict, eps=None) -> DiffusionExample:
        return DiffusionExample(reference, args["sigma"])


def any_case(reference) -> bool:
    """Every diffusion case fits."""
    return isinstance(reference, DiffusionCase)
